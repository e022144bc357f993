// Software offload costs per frame: finishing a partial checksum, cutting a 64 KiB TCP super-frame
// into MSS segments (reported as segments/s and bytes/s), and the receive-side check that spots
// partial checksums on AF_XDP frames.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "packet/headers.h"
#include "packet/packet_batch.h"
#include "packet/packet_pool.h"
#include "packet/soft_gro.h"
#include "packet/soft_offload.h"

namespace {

using hvnet::VnetHdr;

// Ethernet + IPv4 + TCP (20 bytes) + payload, checksum field holding the pseudo-header sum.
std::vector<uint8_t> tcp_frame(uint32_t payload) {
  std::vector<uint8_t> f(14 + 20 + 20 + payload, 0);
  f[12] = 0x08;
  uint16_t tot = uint16_t(20 + 20 + payload);
  const uint8_t ip[20] = {
      0x45, 0, uint8_t(tot >> 8), uint8_t(tot), 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0,
      0,    2};
  std::memcpy(&f[14], ip, 20);
  f[34 + 12] = 0x50;
  f[34 + 13] = 0x18;
  for (uint32_t i = 0; i < payload; ++i) f[54 + i] = uint8_t(i);
  uint64_t pseudo = hvnet::soft::pseudo_header_sum(&f[14], false, 6, 20 + payload);
  hvnet::store_be16(&f[34 + 16], uint16_t(~hvnet::soft::csum_fold(pseudo)));
  return f;
}

VnetHdr partial(uint16_t mss) {
  VnetHdr v;
  v.flags = VnetHdr::kFlagNeedsCsum;
  v.csum_start = 34;
  v.csum_offset = 16;
  if (mss) {
    v.gso_type = VnetHdr::kGsoTcpV4;
    v.gso_size = mss;
    v.hdr_len = 54;
  }
  return v;
}

void BM_ChecksumCompletion(benchmark::State& st) {
  auto f = tcp_frame(uint32_t(st.range(0)));
  iovec iov{f.data(), f.size()};
  hvnet::soft::FrameView view{&iov, 1, uint32_t(f.size())};
  VnetHdr v = partial(0);
  std::vector<uint8_t> out(4096);
  for (auto _ : st) {
    auto plan = hvnet::soft::plan(v, view);
    benchmark::DoNotOptimize(hvnet::soft::write_frame(plan, v, view, 0, out.data(), 4096));
  }
  st.counters["pkts/s"] = benchmark::Counter(double(st.iterations()), benchmark::Counter::kIsRate);
  st.SetBytesProcessed(int64_t(st.iterations() * f.size()));
}
BENCHMARK(BM_ChecksumCompletion)->Arg(64)->Arg(1446);

void BM_SegmentTso64k(benchmark::State& st) {
  auto f = tcp_frame(65000);
  iovec iov{f.data(), f.size()};
  hvnet::soft::FrameView view{&iov, 1, uint32_t(f.size())};
  VnetHdr v = partial(1448);
  std::vector<uint8_t> out(4096);
  uint64_t segs = 0;
  for (auto _ : st) {
    auto plan = hvnet::soft::plan(v, view);
    for (uint32_t k = 0; k < plan.frames; ++k)
      benchmark::DoNotOptimize(hvnet::soft::write_frame(plan, v, view, k, out.data(), 4096));
    segs += plan.frames;
  }
  st.counters["pkts/s"] = benchmark::Counter(double(segs), benchmark::Counter::kIsRate);
  st.SetBytesProcessed(int64_t(st.iterations() * f.size()));
}
BENCHMARK(BM_SegmentTso64k);

void BM_MarkPartialChecksum(benchmark::State& st) {
  auto f = tcp_frame(uint32_t(st.range(0)));
  for (auto _ : st) {
    VnetHdr v;
    benchmark::DoNotOptimize(hvnet::soft::mark_partial_checksum(f.data(), uint32_t(f.size()), v));
  }
  st.counters["pkts/s"] = benchmark::Counter(double(st.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MarkPartialChecksum)->Arg(6)->Arg(1446);

// 32 MSS segments of one flow (as AF_XDP hands them over) folded into GSO frames.
void BM_CoalesceBatch(benchmark::State& st) {
  auto f = tcp_frame(32 * 1448);
  iovec iov{f.data(), f.size()};
  hvnet::soft::FrameView view{&iov, 1, uint32_t(f.size())};
  VnetHdr v = partial(1448);
  auto plan = hvnet::soft::plan(v, view);
  std::vector<std::vector<uint8_t>> segs(plan.frames, std::vector<uint8_t>(4096));
  std::vector<uint32_t> lens(plan.frames);
  for (uint32_t k = 0; k < plan.frames; ++k)
    lens[k] = hvnet::soft::write_frame(plan, v, view, k, segs[k].data(), 4096);
  hvnet::PacketPool pool(64);
  uint64_t frames = 0;
  for (auto _ : st) {
    st.PauseTiming();
    hvnet::PacketBatch batch;
    for (uint32_t k = 0; k < plan.frames && k < hvnet::kBatchSize; ++k) {
      hvnet::Packet* p = pool.alloc_one();
      std::memcpy(p->data, segs[k].data(), lens[k]);
      p->len = lens[k];
      batch.push(p);
    }
    frames += batch.count;
    st.ResumeTiming();
    hvnet::soft::coalesce_tcp(batch, pool);
    st.PauseTiming();
    pool.free(batch.pkts.data(), batch.count);
    st.ResumeTiming();
  }
  st.counters["pkts/s"] = benchmark::Counter(double(frames), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CoalesceBatch);

}  // namespace

BENCHMARK_MAIN();
