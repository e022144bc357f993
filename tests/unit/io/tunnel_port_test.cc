// The VXLAN endpoint on loopback (no root): the encapsulation on the wire, decapsulation into
// the tunnel's tag, learning of remote MACs per VNI, head-end replication, the drops, software
// segmentation to the tunnel's MTU, and super-frames from a VTEP on this host.
#include "io/tunnel_port.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <random>
#include <set>

#include "../frames.h"
#include "../tcp_frames.h"
#include "packet/packet_batch.h"
#include "packet/packet_pool.h"

namespace hvnet {
namespace {

in_addr addr(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a;
}

// A plain UDP socket standing in for a remote VTEP.
struct Peer {
  int fd = -1;
  explicit Peer(const char* ip, uint16_t port) {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr = addr(ip);
    sa.sin_port = htons(port);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << strerror(errno);
  }
  ~Peer() { close(fd); }
  // The next datagram, or empty after a second without one.
  std::vector<uint8_t> take() {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) return {};
    std::vector<uint8_t> buf(70000);
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? size_t(n) : 0);
    return buf;
  }
  // The next datagram's source port (0 after a second without one).
  uint16_t source_port() {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) return 0;
    std::vector<uint8_t> buf(70000);
    sockaddr_in from{};
    socklen_t len = sizeof from;
    if (recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len) < 0)
      return 0;
    return ntohs(from.sin_port);
  }
  bool idle() {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 50) == 0;
  }
  void send_to(const char* ip, uint16_t port, const std::vector<uint8_t>& d) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr = addr(ip);
    sa.sin_port = htons(port);
    ASSERT_EQ(sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa),
              ssize_t(d.size()));
  }
};

std::vector<uint8_t> datagram(uint32_t vni, const std::vector<uint8_t>& frame, uint8_t flags = 8) {
  std::vector<uint8_t> d(8);
  vxlan::write_header(d.data(), vni);
  d[0] = flags;
  d.insert(d.end(), frame.begin(), frame.end());
  return d;
}

class VxlanPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_no = uint16_t(20000 + std::random_device{}() % 20000);
    TunnelConfig cfg;
    cfg.local = addr("127.0.0.1");
    cfg.udp_port = port_no;
    cfg.nets = {TunnelNet{42, 1, {addr("127.0.0.2"), addr("127.0.0.3")}, 1450},
                TunnelNet{43, 2, {addr("127.0.0.2")}, 1450}};
    std::string err;
    port = TunnelPort::open("vx", cfg, &err);
    ASSERT_TRUE(port) << err;
    peer2 = std::make_unique<Peer>("127.0.0.2", port_no);
    peer3 = std::make_unique<Peer>("127.0.0.3", port_no);
  }
  // Receives what is waiting on the port (waits up to a second for the first datagram).
  std::vector<std::vector<uint8_t>> receive() {
    pollfd p{port->fd(), POLLIN, 0};
    poll(&p, 1, 1000);
    PacketBatch batch;
    port->rx_burst(pool, batch);
    std::vector<std::vector<uint8_t>> out;
    for (uint32_t i = 0; i < batch.count; ++i) {
      out.emplace_back(batch[i]->data, batch[i]->data + batch[i]->len);
      pool.free(batch[i]);
    }
    return out;
  }
  void send(const std::vector<uint8_t>& frame, VlanOp op, uint16_t tci, VnetHdr vnet = {}) {
    Packet* p = nullptr;
    ASSERT_EQ(pool.alloc(&p, 1), 1u);
    std::memcpy(p->data, frame.data(), frame.size());
    p->len = uint32_t(frame.size());
    p->vnet = vnet;
    TxItem it{p, op, tci};
    EXPECT_EQ(port->tx_burst(&it, 1), 1u);
    pool.free(p);
  }

  uint16_t port_no = 0;
  PacketPool pool{64};
  std::unique_ptr<TunnelPort> port;
  std::unique_ptr<Peer> peer2, peer3;
};

TEST_F(VxlanPortTest, UnknownDestinationGoesToEveryRemoteOfItsVniWithTheHeader) {
  auto f = test::frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01");
  send(f, VlanOp::kPush, 1);
  for (Peer* p : {peer2.get(), peer3.get()}) {
    auto d = p->take();
    ASSERT_EQ(d.size(), 8 + f.size());
    EXPECT_EQ(d[0], 0x08);  // I flag
    EXPECT_EQ((d[4] << 16 | d[5] << 8 | d[6]), 42);
    EXPECT_EQ(std::vector<uint8_t>(d.begin() + 8, d.end()), f);  // inner frame untagged
  }
  // The other VNI's network reaches only its own remote.
  send(f, VlanOp::kPush, 2);
  auto d = peer2->take();
  ASSERT_FALSE(d.empty());
  EXPECT_EQ((d[4] << 16 | d[5] << 8 | d[6]), 43);
  EXPECT_TRUE(peer3->idle());
}

TEST_F(VxlanPortTest, DecapsulatesIntoTheTunnelsTagAndLearnsTheSender) {
  auto f = test::frame("02:00:00:00:00:01", "02:00:00:00:00:99");
  peer3->send_to("127.0.0.1", port_no, datagram(42, f));
  auto got = receive();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(test::frame_vid(got[0]), 1);
  EXPECT_EQ(got[0].size(), f.size() + 4);
  // Now a frame to that MAC goes to 127.0.0.3 alone.
  send(test::frame("02:00:00:00:00:99", "02:00:00:00:00:01"), VlanOp::kPush, 1);
  EXPECT_FALSE(peer3->take().empty());
  EXPECT_TRUE(peer2->idle());
  // The same MAC on the other VNI is unknown there: flooded to that VNI's remote.
  send(test::frame("02:00:00:00:00:99", "02:00:00:00:00:01"), VlanOp::kPush, 2);
  EXPECT_FALSE(peer2->take().empty());
  auto st = port->status();
  EXPECT_EQ(st["tunnels"][0]["learned"][0]["mac"], "02:00:00:00:00:99");
  EXPECT_EQ(st["tunnels"][0]["learned"][0]["vtep"], "127.0.0.3");
  EXPECT_TRUE(st["tunnels"][1]["learned"].empty());
}

TEST_F(VxlanPortTest, DropsUnknownVniMissingFlagAndRunts) {
  auto f = test::frame("02:00:00:00:00:01", "02:00:00:00:00:99");
  peer2->send_to("127.0.0.1", port_no, datagram(7, f));
  peer2->send_to("127.0.0.1", port_no, datagram(42, f, /*flags=*/0));
  peer2->send_to("127.0.0.1", port_no, {8, 0, 0, 0, 0, 0, 42, 0, 1, 2});
  peer2->send_to("127.0.0.1", port_no, datagram(42, f));  // the one good one
  size_t got = 0;
  for (int i = 0; i < 10 && port->stats().rx_dropped + got < 4; ++i) got += receive().size();
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(port->stats().rx_dropped.load(), 3u);
}

TEST_F(VxlanPortTest, DatagramsFromAVtepTheNetworkDoesNotReachAreDropped) {
  auto f = test::frame("02:00:00:00:00:01", "02:00:00:00:00:99");
  peer3->send_to("127.0.0.1", port_no, datagram(43, f));  // VNI 43 reaches 127.0.0.2 only
  peer2->send_to("127.0.0.1", port_no, datagram(43, f));
  size_t got = 0;
  for (int i = 0; i < 10 && port->stats().rx_dropped + got < 2; ++i) got += receive().size();
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(port->stats().rx_dropped.load(), 1u);
}

TEST_F(VxlanPortTest, NewTunnelsApplyLiveAndForgetWhatWasLearnedBehindAVtepThatLeft) {
  auto f = test::frame("02:00:00:00:00:01", "02:00:00:00:00:99");
  peer3->send_to("127.0.0.1", port_no, datagram(42, f));
  ASSERT_EQ(receive().size(), 1u);
  ASSERT_EQ(port->status()["tunnels"][0]["learned"].size(), 1u);
  const int fd = port->fd();
  // 127.0.0.3 leaves VNI 42; VNI 44 arrives under tag 3; VNI 43 goes.
  port->set_tunnels(
      {TunnelNet{44, 3, {addr("127.0.0.3")}, 1450}, TunnelNet{42, 1, {addr("127.0.0.2")}, 1450}});
  EXPECT_EQ(port->fd(), fd);  // the same socket
  auto st = port->status();
  ASSERT_EQ(st["tunnels"].size(), 2u);
  EXPECT_EQ(st["tunnels"][0]["vni"], 42);
  EXPECT_TRUE(st["tunnels"][0]["learned"].empty());
  // A frame to the MAC once behind 127.0.0.3 is flooded to VNI 42's one remote now.
  send(test::frame("02:00:00:00:00:99", "02:00:00:00:00:01"), VlanOp::kPush, 1);
  EXPECT_FALSE(peer2->take().empty());
  EXPECT_TRUE(peer3->idle());
  send(f, VlanOp::kPush, 3);
  auto d = peer3->take();
  ASSERT_FALSE(d.empty());
  EXPECT_EQ((d[4] << 16 | d[5] << 8 | d[6]), 44);
  peer3->send_to("127.0.0.1", port_no, datagram(44, f));
  auto got = receive();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(test::frame_vid(got[0]), 3);
}

TEST_F(VxlanPortTest, EachInnerFlowLeavesFromItsOwnSourcePort) {
  auto flow = [&](uint16_t port) {
    auto b = test::tcp_frame(false, 100, 0, 0x10);
    b.frame[b.l4] = uint8_t(port >> 8);
    b.frame[b.l4 + 1] = uint8_t(port);
    send(b.frame, VlanOp::kPush, 2);
    return peer2->source_port();
  };
  std::map<uint16_t, uint16_t> source;  // inner TCP port -> outer UDP source port
  std::set<uint16_t> used;
  for (uint16_t p = 1000; p < 1032; ++p) {
    source[p] = flow(p);
    ASSERT_NE(source[p], 0);
    used.insert(source[p]);
  }
  EXPECT_GE(used.size(), 4u);                                               // 32 flows over 8 ports
  for (uint16_t p = 1000; p < 1032; p += 7) EXPECT_EQ(flow(p), source[p]);  // a flow keeps it
}

TEST_F(VxlanPortTest, TcpSuperFramesAreCutToTheTunnelMtu) {
  auto b = test::tcp_frame(false, 8000, 1398, 0x10);  // 20 + 32 + 1398 = 1450
  send(b.frame, VlanOp::kPush, 2, b.vnet);
  uint32_t payload = 0, datagrams = 0;
  for (auto d = peer2->take(); !d.empty();
       d = peer2->idle() ? std::vector<uint8_t>{} : peer2->take()) {
    ++datagrams;
    ASSERT_LE(d.size(), 8 + 14 + 1450u);
    const uint8_t* inner = d.data() + 8;
    const uint32_t len = uint32_t(d.size() - 8);
    EXPECT_TRUE(test::tcp_checksum_ok(inner, len, b.l3, b.l4, false));
    payload += len - (b.l4 + 32);
  }
  EXPECT_EQ(payload, 8000u);
  EXPECT_EQ(datagrams, (8000u + 1397) / 1398);
}

TEST(VxlanPortOrder, TunnelsWrittenInAnyOrderKeepTheirTags) {
  const uint16_t port_no = uint16_t(20000 + std::random_device{}() % 20000);
  TunnelConfig cfg;
  cfg.local = addr("127.0.0.1");
  cfg.udp_port = port_no;
  cfg.nets = {TunnelNet{900, 1, {addr("127.0.0.2")}, 1500},
              TunnelNet{7, 2, {addr("127.0.0.2")}, 1500}};
  std::string err;
  auto port = TunnelPort::open("vx", cfg, &err);
  ASSERT_TRUE(port) << err;
  Peer peer("127.0.0.2", port_no);
  auto f = test::frame("02:00:00:00:00:01", "02:00:00:00:00:99");
  peer.send_to("127.0.0.1", port_no, datagram(7, f));
  peer.send_to("127.0.0.1", port_no, datagram(900, f));
  PacketPool pool(64);
  std::vector<int> vids;
  for (int i = 0; i < 10 && vids.size() < 2; ++i) {
    pollfd p{port->fd(), POLLIN, 0};
    poll(&p, 1, 1000);
    PacketBatch batch;
    port->rx_burst(pool, batch);
    for (uint32_t k = 0; k < batch.count; ++k) {
      vids.push_back(test::frame_vid({batch[k]->data, batch[k]->data + batch[k]->len}));
      pool.free(batch[k]);
    }
  }
  EXPECT_EQ(vids, (std::vector<int>{2, 1}));  // VNI 7 -> tag 2, VNI 900 -> tag 1
}

TEST(VxlanDecap, SuperFrameFromALocalVtepGetsGsoFieldsForTheTunnelMtu) {
  PacketPool pool(4);
  Packet* p = nullptr;
  ASSERT_EQ(pool.alloc(&p, 1), 1u);
  auto b = test::tcp_frame(false, 6000, 0, 0x10);  // partial checksum, no GSO fields: as received
  std::memcpy(p->data, b.frame.data(), b.frame.size());
  p->len = uint32_t(b.frame.size());
  std::vector<TunnelNet> tunnels{TunnelNet{9, 5, {}, 1450}};
  uint8_t hdr[8];
  vxlan::write_header(hdr, 9);
  const TunnelNet* t = vxlan::decap(*p, hdr, tunnels, in_addr{});
  ASSERT_EQ(t, &tunnels[0]);
  EXPECT_EQ(p->vnet.gso_type, VnetHdr::kGsoTcpV4);
  EXPECT_EQ(p->vnet.gso_size, 1450u - 20 - 32);
  EXPECT_EQ(p->vnet.hdr_len, b.l4 + 32 + 4);  // (after the tag)
  EXPECT_EQ(p->vnet.csum_start, b.l4 + 4);
  EXPECT_EQ(p->data[14] << 8 | p->data[15], 5);
  // A frame that fits the MTU stays an ordinary (partial-checksum) frame.
  auto small = test::tcp_frame(false, 1000, 0, 0x10);
  std::memcpy(p->data, small.frame.data(), small.frame.size());
  p->len = uint32_t(small.frame.size());
  ASSERT_TRUE(vxlan::decap(*p, hdr, tunnels, in_addr{}));
  EXPECT_FALSE(p->vnet.is_gso());
  EXPECT_TRUE(p->vnet.flags & VnetHdr::kFlagNeedsCsum);
  pool.free(p);
}

TEST(GreDecap, TakesKeyedEthernetOverGreAndRefusesTheRest) {
  PacketPool pool(4);
  Packet* p = nullptr;
  ASSERT_EQ(pool.alloc(&p, 1), 1u);
  const auto f = test::frame("02:00:00:00:00:01", "02:00:00:00:00:99");
  const std::vector<TunnelNet> nets{TunnelNet{7, 3, {addr("10.0.0.2")}, 1500},
                                    TunnelNet{0x01020304, 4, {}, 1500}};
  // What a raw socket hands over: the IPv4 header, then GRE with a key.
  uint8_t outer[gre::kOuterBytes] = {0x45};
  auto fill = [&](uint32_t key) {
    std::memcpy(p->data, f.data(), f.size());
    p->len = uint32_t(f.size());
    gre::write_header(outer + 20, key);
  };
  fill(7);
  EXPECT_EQ(outer[20], 0x20);  // K
  EXPECT_EQ(outer[22] << 8 | outer[23], 0x6558);
  EXPECT_EQ(gre::decap(*p, outer, nets, addr("10.0.0.2")), &nets[0]);
  EXPECT_EQ(test::frame_vid({p->data, p->data + p->len}), 3);
  fill(7);
  EXPECT_FALSE(gre::decap(*p, outer, nets, addr("10.0.0.3")));  // not the network's VTEP
  fill(0x01020304);  // a 32-bit key; no remotes: any sender
  EXPECT_EQ(gre::decap(*p, outer, nets, addr("10.0.0.3")), &nets[1]);
  fill(8);
  EXPECT_FALSE(gre::decap(*p, outer, nets, addr("10.0.0.2")));  // a key this host does not carry
  fill(7);
  outer[20] |= 0x80;  // a checksum present
  EXPECT_FALSE(gre::decap(*p, outer, nets, addr("10.0.0.2")));
  fill(7);
  outer[22] = 0x08, outer[23] = 0x00;  // IPv4 over GRE, not Ethernet
  EXPECT_FALSE(gre::decap(*p, outer, nets, addr("10.0.0.2")));
  fill(7);
  outer[0] = 0x46;  // IP options: the split would be wrong
  EXPECT_FALSE(gre::decap(*p, outer, nets, addr("10.0.0.2")));
  pool.free(p);
}

}  // namespace
}  // namespace hvnet
