// Software checksum and TCP segmentation: each segment a receiver would accept (valid IP and TCP
// checksums, right lengths, sequence numbers and flags) and the payload intact, in order.
#include "packet/soft_offload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "../tcp_frames.h"
#include "io/egress_frame.h"
#include "packet/headers.h"
#include "packet/packet_batch.h"
#include "packet/packet_pool.h"
#include "packet/soft_gro.h"

namespace hvnet {
namespace {

using test::Built;
using test::fold;
using test::get32;
using test::put16;
using test::sum16;
using test::tcp_checksum_ok;
using test::tcp_frame;

void check_segments(const Built& b, bool ipv6, uint32_t payload, uint16_t mss) {
  iovec iov{const_cast<uint8_t*>(b.frame.data()), b.frame.size()};
  soft::FrameView view{&iov, 1, uint32_t(b.frame.size())};
  soft::Plan plan = soft::plan(b.vnet, view);
  ASSERT_EQ(plan.kind, soft::Plan::Kind::kSegmentTcp);
  ASSERT_EQ(plan.frames, (payload + mss - 1) / mss);
  std::vector<uint8_t> joined;
  std::vector<uint8_t> out(4096);
  const uint32_t hdr = b.l4 + 32;
  for (uint32_t k = 0; k < plan.frames; ++k) {
    uint32_t len = soft::write_frame(plan, b.vnet, view, k, out.data(), uint32_t(out.size()));
    uint32_t seg = std::min<uint32_t>(mss, payload - k * mss);
    ASSERT_EQ(len, hdr + seg) << "segment " << k;
    const uint8_t* ip = &out[b.l3];
    const uint8_t* tcp = &out[b.l4];
    if (ipv6) {
      EXPECT_EQ(load_be16(ip + 4), 32 + seg);
    } else {
      EXPECT_EQ(load_be16(ip + 2), 20 + 32 + seg);
      EXPECT_EQ(load_be16(ip + 4), 0x1234 + k) << "IP ID increments per segment";
      EXPECT_EQ(fold(sum16(ip, 20)), 0xffff) << "IPv4 header checksum of segment " << k;
    }
    EXPECT_EQ(get32(tcp + 4), 0x10000000u + k * mss);
    const bool last = k + 1 == plan.frames;
    EXPECT_EQ((tcp[13] & 0x09) != 0, last) << "FIN/PSH only on the last segment";
    EXPECT_EQ((tcp[13] & 0x80) != 0, k == 0) << "CWR only on the first segment";
    EXPECT_TRUE(tcp_checksum_ok(out.data(), len, b.l3, b.l4, ipv6)) << "segment " << k;
    joined.insert(joined.end(), out.begin() + hdr, out.begin() + len);
  }
  EXPECT_EQ(joined, std::vector<uint8_t>(b.frame.begin() + hdr, b.frame.end()));
}

TEST(SoftOffload, SegmentsTcpV4SuperFrame) {
  const uint8_t kCwrFinPshAck = 0x99;
  auto b = tcp_frame(false, 5000, 1448, kCwrFinPshAck);
  check_segments(b, false, 5000, 1448);
}

TEST(SoftOffload, SegmentsTcpV6SuperFrameWithExactMultiple) {
  auto b = tcp_frame(true, 3 * 1400, 1400, 0x98);  // CWR PSH ACK
  check_segments(b, true, 3 * 1400, 1400);
}

TEST(SoftOffload, SegmentsAcrossScatteredPiecesWithPushedVlanTag) {
  // The egress path pushes a tag by splicing: MACs, tag, rest of the frame.
  auto b = tcp_frame(false, 3000, 1000, 0x18);
  uint8_t tag[4] = {0x81, 0x00, 0x00, 0x14};
  iovec iov[3] = {{b.frame.data(), 12}, {tag, 4}, {b.frame.data() + 12, b.frame.size() - 12}};
  VnetHdr v = b.vnet;
  v.shift(4);
  soft::FrameView view{iov, 3, uint32_t(b.frame.size() + 4)};
  soft::Plan plan = soft::plan(v, view);
  ASSERT_EQ(plan.kind, soft::Plan::Kind::kSegmentTcp);
  ASSERT_EQ(plan.frames, 3u);
  std::vector<uint8_t> out(4096);
  for (uint32_t k = 0; k < 3; ++k) {
    uint32_t len = soft::write_frame(plan, v, view, k, out.data(), 4096);
    ASSERT_EQ(len, 18 + 20 + 32 + 1000u);
    EXPECT_EQ(load_be16(&out[12]), kEtherTypeVlan);
    EXPECT_EQ(load_be16(&out[14]), 0x14);
    EXPECT_TRUE(tcp_checksum_ok(out.data(), len, b.l3 + 4, b.l4 + 4, false));
  }
}

TEST(SoftOffload, CompletesPartialChecksumWithoutSegmenting) {
  auto b = tcp_frame(false, 100, 0, 0x18);
  iovec iov{b.frame.data(), b.frame.size()};
  soft::FrameView view{&iov, 1, uint32_t(b.frame.size())};
  soft::Plan plan = soft::plan(b.vnet, view);
  ASSERT_EQ(plan.kind, soft::Plan::Kind::kChecksum);
  std::vector<uint8_t> out(2048);
  uint32_t len = soft::write_frame(plan, b.vnet, view, 0, out.data(), 2048);
  ASSERT_EQ(len, b.frame.size());
  EXPECT_FALSE(tcp_checksum_ok(b.frame.data(), len, b.l3, b.l4, false)) << "source untouched";
  EXPECT_TRUE(tcp_checksum_ok(out.data(), len, b.l3, b.l4, false));
}

TEST(SoftOffload, RefusesWhatItCannotFinish) {
  auto b = tcp_frame(false, 3000, 1000, 0x18);
  iovec iov{b.frame.data(), b.frame.size()};
  soft::FrameView view{&iov, 1, uint32_t(b.frame.size())};
  VnetHdr udp_gso = b.vnet;
  udp_gso.gso_type = VnetHdr::kGsoUdp;
  EXPECT_EQ(soft::plan(udp_gso, view).kind, soft::Plan::Kind::kUnsupported);
  VnetHdr wrong_family = b.vnet;
  wrong_family.gso_type = VnetHdr::kGsoTcpV6;
  EXPECT_EQ(soft::plan(wrong_family, view).kind, soft::Plan::Kind::kUnsupported);
  VnetHdr past_end{};
  past_end.flags = VnetHdr::kFlagNeedsCsum;
  past_end.csum_start = uint16_t(b.frame.size() - 1);
  past_end.csum_offset = 16;
  EXPECT_EQ(soft::plan(past_end, view).kind, soft::Plan::Kind::kUnsupported);
}

TEST(SoftOffload, MarksOnlyFramesWhoseChecksumIsStillPartial) {
  auto b = tcp_frame(true, 200, 0, 0x18);
  VnetHdr v{};
  ASSERT_TRUE(soft::mark_partial_checksum(b.frame.data(), uint32_t(b.frame.size()), v));
  EXPECT_TRUE(v.flags & VnetHdr::kFlagNeedsCsum);
  EXPECT_EQ(v.csum_start, b.l4);
  EXPECT_EQ(v.csum_offset, 16);

  // Finished frame: left alone.
  iovec iov{b.frame.data(), b.frame.size()};
  soft::FrameView view{&iov, 1, uint32_t(b.frame.size())};
  std::vector<uint8_t> done(2048);
  uint32_t len = soft::write_frame(soft::plan(v, view), v, view, 0, done.data(), 2048);
  VnetHdr v2{};
  EXPECT_FALSE(soft::mark_partial_checksum(done.data(), len, v2));
  EXPECT_EQ(v2.flags, 0);

  // Padded frame (came from a wire) and IPv4 fragments: left alone.
  auto small = tcp_frame(false, 0, 0, 0x10);
  auto padded = small.frame;
  padded.resize(padded.size() + 6);
  EXPECT_FALSE(soft::mark_partial_checksum(padded.data(), uint32_t(padded.size()), v2));
  auto frag = small.frame;
  frag[small.l3 + 6] = 0x20;  // more fragments
  EXPECT_FALSE(soft::mark_partial_checksum(frag.data(), uint32_t(frag.size()), v2));
  EXPECT_TRUE(soft::mark_partial_checksum(small.frame.data(), uint32_t(small.frame.size()), v2));
}

uint32_t b_port_offset(const Built& b) {
  return b.l4 + 1;  // low byte of the source port
}

// Receive-side coalescing: segments cut from a super-frame fold back into it, and what a
// receiver would not take as one stream stays apart.
struct Segments {
  std::vector<std::vector<uint8_t>> frames;
};

Segments cut(const Built& b) {
  iovec iov{const_cast<uint8_t*>(b.frame.data()), b.frame.size()};
  soft::FrameView view{&iov, 1, uint32_t(b.frame.size())};
  soft::Plan plan = soft::plan(b.vnet, view);
  Segments out;
  for (uint32_t k = 0; k < plan.frames; ++k) {
    std::vector<uint8_t> f(4096);
    f.resize(soft::write_frame(plan, b.vnet, view, k, f.data(), 4096));
    out.frames.push_back(f);
  }
  return out;
}

void load(PacketPool& pool, PacketBatch& batch, const std::vector<uint8_t>& f) {
  Packet* p = pool.alloc_one();
  std::memcpy(p->data, f.data(), f.size());
  p->len = uint32_t(f.size());
  batch.push(p);
}

std::vector<uint8_t> bytes(const Packet& p) {
  return std::vector<uint8_t>(p.data, p.data + p.len);
}

void expect_round_trip(bool ipv6, int tags = 0) {
  auto b = tcp_frame(ipv6, 5000, 1448, 0x18, tags);
  Segments segs = cut(b);
  ASSERT_EQ(segs.frames.size(), 4u);
  PacketPool pool(8);
  PacketBatch batch;
  for (const auto& f : segs.frames) load(pool, batch, f);
  EXPECT_EQ(soft::coalesce_tcp(batch, pool), 3u);
  ASSERT_EQ(batch.count, 1u);
  EXPECT_EQ(pool.available(), 7u) << "merged packets go back to the pool";
  const Packet& m = *batch[0];
  EXPECT_EQ(m.len, b.frame.size());
  EXPECT_EQ(m.vnet.gso_type, ipv6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4);
  EXPECT_EQ(m.vnet.gso_size, 1448);
  EXPECT_EQ(m.vnet.csum_start, b.l4);
  EXPECT_TRUE(m.vnet.flags & VnetHdr::kFlagNeedsCsum);
  // Cut again: the very same segments, byte for byte.
  Built again{bytes(m), m.vnet, b.l3, b.l4};
  Segments segs2 = cut(again);
  EXPECT_EQ(segs2.frames, segs.frames);
  pool.free(batch.pkts.data(), batch.count);
}

TEST(SoftGro, SegmentsFoldBackIntoTheSuperFrameV4) {
  expect_round_trip(false);
}

TEST(SoftGro, SegmentsFoldBackIntoTheSuperFrameV6) {
  expect_round_trip(true);
}

TEST(SoftGro, TaggedSegmentsFoldBackLikeUntaggedOnes) {
  // GRO finds the IP header the way segmentation does, so a frame it builds is one TSO can cut.
  for (int tags : {1, 2}) {
    SCOPED_TRACE(tags);
    expect_round_trip(false, tags);
    expect_round_trip(true, tags);
  }
}

TEST(SoftGro, OnlyConsecutiveInOrderSegmentsOfOneFlowMerge) {
  auto a = cut(tcp_frame(false, 4000, 1000, 0x10)).frames;  // 4 segments
  auto other = tcp_frame(false, 2000, 1000, 0x10);
  other.frame[b_port_offset(other)] ^= 1;  // another source port: another flow
  auto b = cut(other).frames;
  PacketPool pool(16);
  PacketBatch batch;
  // a0 b0 a1 a2 (gap: a3 missing) ... then a corrupted copy of a3.
  load(pool, batch, a[0]);
  load(pool, batch, b[0]);
  load(pool, batch, a[1]);
  load(pool, batch, a[2]);
  auto bad = a[3];
  bad.back() ^= 0xff;  // payload no longer matches its checksum
  load(pool, batch, bad);
  load(pool, batch, b[1]);
  EXPECT_EQ(soft::coalesce_tcp(batch, pool), 1u);  // only a1+a2
  ASSERT_EQ(batch.count, 5u);
  EXPECT_EQ(bytes(*batch[0]), a[0]);
  EXPECT_EQ(bytes(*batch[1]), b[0]);
  EXPECT_EQ(batch[2]->len, a[1].size() + 1000);
  EXPECT_EQ(bytes(*batch[3]), bad) << "a frame with a bad checksum is passed on untouched";
  EXPECT_EQ(bytes(*batch[4]), b[1]);
  pool.free(batch.pkts.data(), batch.count);
}

TEST(SoftGro, PushEndsTheRunAndPartialChecksumsMerge) {
  auto segs = cut(tcp_frame(false, 3000, 1000, 0x18)).frames;  // PSH lands on the last
  auto next = tcp_frame(false, 2000, 1000, 0x10);
  uint32_t seq = 0x10000000u + 3000;  // carries straight on after the push
  for (int i = 0; i < 4; ++i) next.frame[next.l4 + 4 + i] = uint8_t(seq >> (24 - 8 * i));
  auto more = cut(next).frames;
  PacketPool pool(8);
  PacketBatch batch;
  for (const auto& f : segs) load(pool, batch, f);
  load(pool, batch, more[0]);  // same flow, in sequence, but after a push
  load(pool, batch, more[1]);
  // Partial checksums (as a local sender leaves them) count as right.
  for (uint32_t i = 0; i < batch.count; ++i)
    soft::mark_partial_checksum(batch[i]->data, batch[i]->len, batch[i]->vnet);
  EXPECT_EQ(soft::coalesce_tcp(batch, pool), 3u);  // 3 -> 1 and 2 -> 1
  ASSERT_EQ(batch.count, 2u);
  EXPECT_EQ(batch[1]->len, more[0].size() + 1000);
  EXPECT_EQ(batch[0]->data[34 + 13] & 0x08, 0x08) << "the push survives on the merged frame";
  pool.free(batch.pkts.data(), batch.count);
}

// What a wire gets: short frames padded with zeros to 60 bytes, whatever the VLAN operation made
// of them; a VIF (pad_to 0) gets them as they are.
TEST(EgressFrame, ShortFramesArePaddedToTheEthernetMinimumOnlyWhenAsked) {
  std::vector<uint8_t> arp(42, 0xab);
  arp[12] = 0x08;
  arp[13] = 0x06;
  Packet p;
  p.data = arp.data();
  p.len = uint32_t(arp.size());
  auto flat = [](const EgressFrame& ef) {
    std::vector<uint8_t> out;
    for (int k = 1; k < ef.iov_count; ++k) {
      auto* b = static_cast<const uint8_t*>(ef.iov[k].iov_base);
      out.insert(out.end(), b, b + ef.iov[k].iov_len);
    }
    return out;
  };
  EgressFrame ef;
  ASSERT_TRUE(ef.build(TxItem{&p, VlanOp::kKeep, 0}, kEthMinFrame));
  std::vector<uint8_t> got = flat(ef);
  ASSERT_EQ(got.size(), 60u);
  EXPECT_EQ(ef.frame_len, 60u);
  EXPECT_TRUE(std::equal(arp.begin(), arp.end(), got.begin()));
  EXPECT_TRUE(std::all_of(got.begin() + 42, got.end(), [](uint8_t b) { return b == 0; }));
  ASSERT_TRUE(ef.build(TxItem{&p, VlanOp::kPush, 10}, kEthMinFrame));  // 46 bytes tagged
  got = flat(ef);
  ASSERT_EQ(got.size(), 60u);
  EXPECT_EQ(got[12], 0x81);
  EXPECT_EQ(got[17], 0x06);
  ASSERT_TRUE(ef.build(TxItem{&p, VlanOp::kKeep, 0}));  // a VIF
  EXPECT_EQ(flat(ef).size(), 42u);
  std::vector<uint8_t> big(100, 1);
  p.data = big.data();
  p.len = 100;
  ASSERT_TRUE(ef.build(TxItem{&p, VlanOp::kKeep, 0}, kEthMinFrame));
  EXPECT_EQ(flat(ef).size(), 100u);
}

}  // namespace
}  // namespace hvnet
