// Forwarding behaviour over in-memory ports: learning, flooding, VLANs, MTU, malformed frames.
#include <gtest/gtest.h>

#include <random>

#include "../frames.h"
#include "../mem_switch.h"

namespace hvnet {
namespace {

using test::frame;
using test::frame_vid;
using test::MemSwitch;

constexpr const char* kBcast = "ff:ff:ff:ff:ff:ff";
constexpr const char* kVm1 = "00:16:3e:00:00:01";
constexpr const char* kVm2 = "00:16:3e:00:00:02";
constexpr const char* kVm3 = "00:16:3e:00:00:03";
constexpr const char* kPhys = "52:54:00:00:00:09";

// Three VIFs on net0; a PIF "eth0" trunking net0 untagged plus VLAN 10 (net10) and 20 (net20);
// vif10 sits on net10, vif20 on net20.
nlohmann::json topology(uint32_t mtu = 1500) {
  return {
      {"networks", {{{"name", "net0"}, {"mtu", mtu}}, {{"name", "net10"}}, {{"name", "net20"}}}},
      {"ports",
       {{{"name", "vif1.0"}, {"type", "tap"}, {"network", "net0"}},
        {{"name", "vif2.0"}, {"type", "tap"}, {"network", "net0"}},
        {{"name", "vif3.0"}, {"type", "tap"}, {"network", "net0"}},
        {{"name", "vif10"}, {"type", "tap"}, {"network", "net10"}},
        {{"name", "vif20"}, {"type", "tap"}, {"network", "net20"}},
        {{"name", "eth0"},
         {"type", "af_packet"},
         {"network", "net0"},
         {"vlans", {{{"tag", 10}, {"network", "net10"}}, {{"tag", 20}, {"network", "net20"}}}}}}}};
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sw.apply_json(topology())); }
  size_t sent(const std::string& port) { return sw.port(port).take_sent().size(); }
  void drain() {
    for (auto& [n, p] : sw.ports) p->take_sent();
  }
  MemSwitch sw;
};

TEST_F(PipelineTest, UnknownUnicastFloodsToEveryOtherPortOfTheNetwork) {
  sw.port("vif1.0").inject(frame(kVm2, kVm1));
  sw.step();
  EXPECT_EQ(sent("vif1.0"), 0u);  // never back out of the input port
  EXPECT_EQ(sent("vif2.0"), 1u);
  EXPECT_EQ(sent("vif3.0"), 1u);
  auto out = sw.port("eth0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(frame_vid(out[0].bytes), -1);  // native network leaves untagged
  EXPECT_EQ(sent("vif10"), 0u);            // other networks never see it
  EXPECT_EQ(sent("vif20"), 0u);
}

TEST_F(PipelineTest, LearnedUnicastGoesToOnePort) {
  sw.port("vif2.0").inject(frame(kBcast, kVm2));  // vif2 announces itself
  sw.step();
  drain();
  sw.port("vif1.0").inject(frame(kVm2, kVm1, -1, 100));
  sw.step();
  auto out = sw.port("vif2.0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, frame(kVm2, kVm1, -1, 100));  // delivered unmodified
  EXPECT_EQ(sent("vif3.0"), 0u);
  EXPECT_EQ(sent("eth0"), 0u);
  EXPECT_EQ(sw.worker.stats().forwarded.load(), 1u);
}

TEST_F(PipelineTest, BroadcastAndMulticastAlwaysFlood) {
  sw.port("vif2.0").inject(frame(kBcast, kVm2));
  sw.step();
  drain();
  sw.port("vif1.0").inject(frame(kBcast, kVm1));
  sw.port("vif1.0").inject(frame("01:00:5e:00:00:fb", kVm1));
  sw.step();
  EXPECT_EQ(sent("vif2.0"), 2u);
  EXPECT_EQ(sent("vif3.0"), 2u);
  EXPECT_EQ(sent("eth0"), 2u);
}

TEST_F(PipelineTest, MacMoveRedirectsTraffic) {
  sw.port("vif2.0").inject(frame(kBcast, kVm2));
  sw.step();
  sw.port("vif3.0").inject(frame(kBcast, kVm2));  // the MAC now lives behind vif3.0
  sw.step();
  drain();
  sw.port("vif1.0").inject(frame(kVm2, kVm1));
  sw.step();
  EXPECT_EQ(sent("vif2.0"), 0u);
  EXPECT_EQ(sent("vif3.0"), 1u);
  EXPECT_EQ(sw.worker.stats().mac_moves.load(), 1u);
}

TEST_F(PipelineTest, LearnedEntryAgesOutAndTrafficFloodsAgain) {
  sw.port("vif2.0").inject(frame(kBcast, kVm2));
  sw.step();
  drain();
  sw.now += 301;
  sw.port("vif1.0").inject(frame(kVm2, kVm1));
  sw.step();
  EXPECT_EQ(sent("vif2.0"), 1u);
  EXPECT_EQ(sent("vif3.0"), 1u);  // flooded: the entry had aged out
}

TEST_F(PipelineTest, VlanPushTowardsThePifAndPopTowardsTheVif) {
  sw.port("vif10").inject(frame(kPhys, kVm1));
  sw.step();
  auto out = sw.port("eth0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(frame_vid(out[0].bytes), 10);
  EXPECT_EQ(out[0].bytes, frame(kPhys, kVm1, 10));
  EXPECT_EQ(sent("vif20"), 0u);
  EXPECT_EQ(sent("vif1.0"), 0u);

  // The reply arrives tagged 10 on the PIF and reaches vif10 untagged, learned unicast.
  sw.port("eth0").inject(frame(kVm1, kPhys, 10));
  sw.step();
  auto in = sw.port("vif10").take_sent();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].bytes, frame(kVm1, kPhys));
  EXPECT_EQ(sent("vif20"), 0u);
  EXPECT_EQ(sent("vif1.0"), 0u);
}

TEST_F(PipelineTest, VlanKeepsPriorityBits) {
  sw.port("eth0").inject(frame(kBcast, kPhys, 20, 46, 0x0800, 5));
  sw.step();
  ASSERT_EQ(sent("vif20"), 1u);
  sw.port("vif20").inject(frame(kPhys, kVm3));
  sw.step();
  auto out = sw.port("eth0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(frame_vid(out[0].bytes), 20);
}

TEST_F(PipelineTest, SecondVlanIsIsolated) {
  sw.port("eth0").inject(frame(kBcast, kPhys, 20));
  sw.step();
  EXPECT_EQ(sent("vif20"), 1u);
  EXPECT_EQ(sent("vif10"), 0u);
  EXPECT_EQ(sent("vif1.0"), 0u);
}

TEST_F(PipelineTest, WrongOrPartialTagsAreDroppedAndCounted) {
  sw.port("eth0").inject(frame(kBcast, kPhys, 30));   // VID not on this trunk
  sw.port("vif1.0").inject(frame(kBcast, kVm1, 10));  // tagged frame from a VM
  auto partial = frame(kBcast, kPhys, 10, 0);
  partial.resize(16);  // 802.1Q EtherType, tag cut short
  sw.port("eth0").inject(partial);
  sw.step();
  for (auto& [n, p] : sw.ports) EXPECT_EQ(p->take_sent().size(), 0u) << n;
  EXPECT_EQ(sw.dropped(DropReason::kVlanUnknown), 1u);
  EXPECT_EQ(sw.dropped(DropReason::kVlanNotAllowed), 1u);
  EXPECT_EQ(sw.dropped(DropReason::kTruncatedTag), 1u);
  EXPECT_EQ(sw.port("eth0").stats().rx_dropped.load(), 2u);
}

// An 802.1ad S-tagged frame with VID 10 once entered VLAN 10's network and then failed on every
// TAP (tx_failed). S-tags are not VLANs here: dropped at ingress with their own reason.
TEST_F(PipelineTest, ServiceTaggedFramesAreDroppedWithTheirOwnReason) {
  for (const char* in : {"eth0", "vif1.0"}) {
    auto f = frame(kBcast, kPhys, 10);
    f[12] = 0x88, f[13] = 0xa8;
    sw.port(in).inject(f);
  }
  sw.step();
  for (auto& [n, p] : sw.ports) EXPECT_EQ(p->take_sent().size(), 0u) << n;
  EXPECT_EQ(sw.dropped(DropReason::kSTagged), 2u);
  EXPECT_EQ(sw.dropped(DropReason::kTxFailed), 0u);
  EXPECT_STREQ(drop_reason_name(DropReason::kSTagged), "s_tagged");
}

TEST_F(PipelineTest, PriorityTaggedFrameOnAccessPortIsAccepted) {
  sw.port("vif1.0").inject(frame(kBcast, kVm1, 0, 46, 0x0800, 3));
  sw.step();
  auto out = sw.port("vif2.0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(frame_vid(out[0].bytes), -1);  // the priority tag is removed on an access port
}

// VLAN 0 (xapi accepts tags 0..4094): a network whose frames carry an 802.1Q header with VID 0 on
// the trunk. Priority-tagged frames from the wire go to it, untagged ones stay native; without a
// VLAN 0 a priority-tagged frame is native traffic, as 802.1Q says.
TEST(PipelineVlanZero, PriorityTaggedFramesBelongToVlanZeroAndUntaggedStayNative) {
  MemSwitch sw;
  ASSERT_TRUE(sw.apply_json({{"networks", {{{"name", "net0"}}, {{"name", "netp"}}}},
                             {"ports",
                              {{{"name", "vif0"}, {"type", "tap"}, {"network", "net0"}},
                               {{"name", "vifp"}, {"type", "tap"}, {"network", "netp"}},
                               {{"name", "eth0"},
                                {"type", "af_packet"},
                                {"network", "net0"},
                                {"vlans", {{{"tag", 0}, {"network", "netp"}}}}}}}}));
  sw.port("eth0").inject(frame(kBcast, kPhys, 0, 46, 0x0800, 5));
  sw.step();
  auto in = sw.port("vifp").take_sent();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].bytes, frame(kBcast, kPhys));  // the tag is removed towards the VIF
  EXPECT_EQ(sw.port("vif0").take_sent().size(), 0u);

  sw.port("eth0").inject(frame(kBcast, kPhys));
  sw.step();
  EXPECT_EQ(sw.port("vif0").take_sent().size(), 1u);
  EXPECT_EQ(sw.port("vifp").take_sent().size(), 0u);

  // The VM's reply leaves priority-tagged (VID 0, priority 0), learned unicast to the PIF.
  sw.port("vifp").inject(frame(kPhys, kVm1));
  sw.step();
  auto out = sw.port("eth0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, frame(kPhys, kVm1, 0));
  EXPECT_EQ(sw.port("vif0").take_sent().size(), 0u);

  // The spec reads back tag 0.
  const TopologySpec t = sw.ctl.topology();
  const auto eth0 = std::find_if(t.ports.begin(), t.ports.end(),
                                 [](const PortSpec& p) { return p.name == "eth0"; });
  ASSERT_NE(eth0, t.ports.end());
  ASSERT_EQ(eth0->vlans.size(), 1u);
  EXPECT_EQ(eth0->vlans[0].tag, 0);

  // Without VLAN 0 the same priority-tagged frame is native traffic.
  ASSERT_TRUE(sw.apply_json({{"networks", {{{"name", "net0"}}}},
                             {"ports",
                              {{{"name", "vif0"}, {"type", "tap"}, {"network", "net0"}},
                               {{"name", "eth0"}, {"type", "af_packet"}, {"network", "net0"}}}}}));
  sw.port("eth0").inject(frame(kBcast, kPhys, 0, 46, 0x0800, 5));
  sw.step();
  EXPECT_EQ(sw.port("vif0").take_sent().size(), 1u);
}

TEST_F(PipelineTest, FramesOverTheMtuAreDroppedNotTruncated) {
  sw.port("vif1.0").inject(frame(kBcast, kVm1, -1, 1500));  // exactly the MTU: passes
  sw.port("vif1.0").inject(frame(kBcast, kVm1, -1, 1501));
  sw.port("eth0").inject(frame(kBcast, kPhys, 10, 1501));
  sw.step();
  auto out = sw.port("vif2.0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.size(), 1514u);
  EXPECT_EQ(sent("vif10"), 0u);
  EXPECT_EQ(sw.dropped(DropReason::kMtuExceeded), 2u);
}

TEST_F(PipelineTest, GsoSuperFramePassesWhenItsSegmentsFitTheMtu) {
  VnetHdr gso;
  gso.gso_type = VnetHdr::kGsoTcpV4;
  gso.hdr_len = 14 + 20 + 32;
  gso.gso_size = 1448;
  gso.flags = VnetHdr::kFlagNeedsCsum;
  gso.csum_start = 34;
  gso.csum_offset = 16;
  sw.port("vif10").inject(frame(kPhys, kVm1, -1, 20000), gso);
  gso.gso_size = 1449;  // 20 + 32 + 1449 > 1500: each segment would be too big
  sw.port("vif10").inject(frame(kPhys, kVm1, -1, 20000), gso);
  sw.step();
  auto out = sw.port("eth0").take_sent();
  ASSERT_EQ(out.size(), 1u);
  // The tag pushed on egress moves the offload offsets with it.
  EXPECT_EQ(out[0].vnet.csum_start, 38);
  EXPECT_EQ(out[0].vnet.hdr_len, 14 + 20 + 32 + 4);
  EXPECT_EQ(out[0].vnet.gso_size, 1448);
  EXPECT_EQ(sw.dropped(DropReason::kMtuExceeded), 1u);
}

// A GRO packet the host forwards out of an internal port says its whole linear part in hdr_len:
// the MTU check measures the IPv4 and TCP headers in the frame instead.
TEST_F(PipelineTest, GsoMtuCheckMeasuresTheHeadersNotTheKernelsHint) {
  auto tcp_frame = [&] {
    auto f = frame(kPhys, kVm1, -1, 20000);
    f[14] = 0x45;       // IPv4, 20-byte header
    f[14 + 9] = 6;      // TCP
    f[34 + 12] = 0x80;  // 32-byte TCP header
    return f;
  };
  VnetHdr gso;
  gso.gso_type = VnetHdr::kGsoTcpV4;
  gso.hdr_len = 14 + 1500;  // the kernel's hint: far more than the headers
  gso.gso_size = 1448;
  sw.port("vif10").inject(tcp_frame(), gso);
  gso.gso_size = 1449;  // 20 + 32 + 1449 > 1500
  sw.port("vif10").inject(tcp_frame(), gso);
  sw.step();
  EXPECT_EQ(sw.port("eth0").take_sent().size(), 1u);
  EXPECT_EQ(sw.dropped(DropReason::kMtuExceeded), 1u);
}

TEST_F(PipelineTest, RuntsAndBadSourcesAreCountedNeverForwarded) {
  sw.port("vif1.0").inject({0x01, 0x02, 0x03});
  sw.port("vif1.0").inject({});
  sw.port("vif1.0").inject(frame(kVm2, kBcast));  // broadcast source
  sw.port("vif1.0").inject(frame(kVm2, "00:00:00:00:00:00"));
  sw.step();
  EXPECT_EQ(sw.dropped(DropReason::kRunt), 2u);
  EXPECT_EQ(sw.dropped(DropReason::kBadSourceMac), 2u);
  EXPECT_EQ(sent("vif2.0"), 0u);
  EXPECT_EQ(sw.worker.fdb().size(), 0u);
}

TEST_F(PipelineTest, RandomGarbageNeverCrashesAndEveryFrameIsAccounted) {
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> f(rng() % 80);
    for (auto& b : f) b = uint8_t(rng());
    if (f.size() > 13 && rng() % 2) {
      f[12] = 0x81;
      f[13] = 0x00;
    }
    sw.port(i % 2 ? "eth0" : "vif1.0").inject(f);
    sw.step();
  }
  SUCCEED();
}

TEST_F(PipelineTest, ABurstOfThirtyThreeFramesAllArrive) {
  sw.port("vif2.0").inject(frame(kBcast, kVm2));
  sw.step();
  drain();
  for (int i = 0; i < 33; ++i) sw.port("vif1.0").inject(frame(kVm2, kVm1, -1, 46 + i));
  sw.worker.poll_once(0);  // one batch of 32
  auto first = sw.port("vif2.0").take_sent();
  EXPECT_EQ(first.size(), 32u);
  sw.step();  // the 33rd
  auto second = sw.port("vif2.0").take_sent();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].bytes.size(), 14u + 46 + 32);  // in order: the last one comes last
  EXPECT_EQ(sw.port("vif1.0").stats().rx_packets.load(), 33u);
  EXPECT_EQ(sw.port("vif2.0").stats().tx_packets.load(), 33u);
}

TEST_F(PipelineTest, HairpinToTheInputPortIsDropped) {
  sw.port("vif1.0").inject(frame(kBcast, kVm1));
  sw.step();
  drain();
  sw.port("vif1.0").inject(frame(kVm1, kVm2));  // to a MAC learned on the same port
  sw.step();
  EXPECT_EQ(sent("vif1.0"), 0u);
  EXPECT_EQ(sw.dropped(DropReason::kHairpin), 1u);
}

TEST(PipelineTableFull, NewMacsFromOnePortDoNotEvictOthers) {
  WorkerOptions opt;
  opt.mac_capacity = 16;
  MemSwitch sw(opt);
  ASSERT_TRUE(sw.apply_json(topology()));
  sw.port("vif2.0").inject(frame(kBcast, kVm2));
  sw.step();
  for (int i = 0; i < 100; ++i) {
    char m[18];
    std::snprintf(m, sizeof m, "02:00:00:00:%02x:%02x", i / 256, i % 256);
    sw.port("vif1.0").inject(frame(kBcast, m));
  }
  sw.step();
  EXPECT_EQ(sw.worker.fdb().size(), 16u);
  EXPECT_GT(sw.worker.stats().mac_evictions.load(), 0u);
  for (auto& [n, p] : sw.ports) p->take_sent();
  sw.port("vif3.0").inject(frame(kVm2, kVm3));
  sw.step();
  EXPECT_EQ(sw.port("vif2.0").take_sent().size(), 1u);
  EXPECT_EQ(sw.port("vif1.0").take_sent().size(), 0u);  // still learned, not flooded
}

// A network's security policy on its VIFs: a promiscuous VIF also receives the unicast the
// network forwards between two others (and one that is not promiscuous does not); forged
// transmits rejected drop a frame from another source MAC with port locking's own reason; MAC
// changes rejected keep a VIF from learning, and from receiving, a MAC it took on.
TEST(SecurityPolicy, PromiscuousForgedTransmitsAndMacChanges) {
  MemSwitch sw;
  const char* a = "00:16:3e:00:00:0a";
  const char* b = "00:16:3e:00:00:0b";
  const char* other = "00:16:3e:00:00:99";
  ASSERT_TRUE(sw.apply_json({{"networks", {{{"name", "n"}}}},
                             {"ports",
                              {{{"name", "va"}, {"network", "n"}, {"mac", a}},
                               {{"name", "vb"}, {"network", "n"}, {"mac", b}},
                               {{"name", "spy"}, {"network", "n"}, {"promiscuous", true}},
                               {{"name", "plain"}, {"network", "n"}}}}}));
  auto sent = [&](const char* port) { return sw.port(port).take_sent().size(); };
  sw.port("va").inject(frame("ff:ff:ff:ff:ff:ff", a));
  sw.port("vb").inject(frame("ff:ff:ff:ff:ff:ff", b));
  sw.step();
  for (const char* p : {"va", "vb", "spy", "plain"}) sent(p);
  sw.port("va").inject(frame(b, a));  // known unicast a -> b
  sw.step();
  EXPECT_EQ(sent("vb"), 1u);
  EXPECT_EQ(sent("spy"), 1u);
  EXPECT_EQ(sent("plain"), 0u);
  EXPECT_EQ(sent("va"), 0u);

  // Promiscuous off, forged transmits rejected on va, MAC changes rejected on vb.
  auto vb = nlohmann::json{{"name", "vb"}, {"network", "n"}, {"mac", b}};
  vb["locking"] = {{"mac_changes", "reject"}};
  auto va = nlohmann::json{{"name", "va"}, {"network", "n"}, {"mac", a}};
  va["locking"] = {{"forged_transmits", "reject"}};
  ASSERT_TRUE(sw.apply_json(
      {{"networks", {{{"name", "n"}}}},
       {"ports",
        {va, vb, {{"name", "spy"}, {"network", "n"}}, {{"name", "plain"}, {"network", "n"}}}}}));
  EXPECT_EQ(sw.opens["spy"], 1);  // the policy changes live: no port re-opened
  sw.port("va").inject(frame(b, a));
  sw.step();
  EXPECT_EQ(sent("vb"), 1u);
  EXPECT_EQ(sent("spy"), 0u);
  const uint64_t forged = sw.dropped(DropReason::kLockMac);
  sw.port("va").inject(frame("ff:ff:ff:ff:ff:ff", other));
  sw.step();
  EXPECT_EQ(sw.dropped(DropReason::kLockMac), forged + 1);
  EXPECT_EQ(sent("plain"), 0u);

  // vb sends from another MAC: forwarded (forged transmits are accepted there), not learned;
  // unicast to that MAC floods to everyone but vb.
  sw.port("vb").inject(frame("ff:ff:ff:ff:ff:ff", other));
  sw.step();
  EXPECT_EQ(sent("plain"), 1u);
  sent("va"), sent("spy");
  sw.port("va").inject(frame(other, a));
  sw.step();
  EXPECT_EQ(sent("vb"), 0u);
  EXPECT_EQ(sent("plain"), 1u);
  EXPECT_EQ(sent("spy"), 1u);
  sw.port("va").inject(frame(b, a));  // its own MAC: delivered
  sw.step();
  EXPECT_EQ(sent("vb"), 1u);
}

// A routed network's VIFs are isolated: their frames reach only the host's port (broadcasts too),
// unicast to another VIF is dropped as "isolated", and the host reaches every VIF.
TEST(RoutedNetwork, IsolatedPortsMeetOnlyTheHostsPort) {
  MemSwitch sw;
  const char* a = "00:16:3e:00:00:0a";
  const char* b = "00:16:3e:00:00:0b";
  const char* h = "02:00:00:00:00:01";
  ASSERT_TRUE(sw.apply_json({{"networks", {{{"name", "r"}}}},
                             {"ports",
                              {{{"name", "va"}, {"network", "r"}, {"mac", a}, {"isolated", true}},
                               {{"name", "vb"}, {"network", "r"}, {"mac", b}, {"isolated", true}},
                               {{"name", "host"}, {"network", "r"}}}}}));
  auto sent = [&](const char* port) { return sw.port(port).take_sent().size(); };
  sw.port("va").inject(frame("ff:ff:ff:ff:ff:ff", a));
  sw.port("vb").inject(frame("ff:ff:ff:ff:ff:ff", b));
  sw.port("host").inject(frame("ff:ff:ff:ff:ff:ff", h));
  sw.step();
  EXPECT_EQ(sent("host"), 2u);  // both broadcasts, and neither VIF got the other's
  EXPECT_EQ(sent("va"), 1u);    // the host's
  EXPECT_EQ(sent("vb"), 1u);
  const uint64_t isolated = sw.dropped(DropReason::kIsolated);
  sw.port("va").inject(frame(b, a));
  sw.step();
  EXPECT_EQ(sw.dropped(DropReason::kIsolated), isolated + 1);
  EXPECT_EQ(sent("vb"), 0u);
  sw.port("va").inject(frame(h, a));
  sw.port("host").inject(frame(b, h));
  sw.step();
  EXPECT_EQ(sent("host"), 1u);
  EXPECT_EQ(sent("vb"), 1u);
}

// Port mirroring: what a source receives (as received, tagged if it was) and what it is sent (as
// it leaves) is copied to the destination, which carries nothing else; an RSPAN destination on a
// trunk gets the copies tagged with the session's VLAN; the session counts its copies.
TEST(PortMirror, CopiesIngressAndEgressToTheDestinationAndCounts) {
  MemSwitch sw;
  const char* a = "00:16:3e:00:00:0a";
  const char* b = "00:16:3e:00:00:0b";
  nlohmann::json va = {{"name", "va"}, {"network", "n"}, {"mac", a}};
  va["mirrors"] = {{{"session", "s1"}, {"to", "mon"}, {"direction", "both"}},
                   {{"session", "s2"}, {"to", "eth0"}, {"vlan", 99}, {"direction", "ingress"}}};
  auto apply = [&] {
    return sw.apply_json({{"networks", {{{"name", "n"}}}},
                          {"ports",
                           {va,
                            {{"name", "vb"}, {"network", "n"}, {"mac", b}},
                            {{"name", "mon"}, {"mirror_destination", true}},
                            {{"name", "eth0"}, {"type", "pif"}, {"network", "n"}}}}});
  };
  ASSERT_TRUE(apply());
  sw.port("vb").inject(frame("ff:ff:ff:ff:ff:ff", b));
  sw.step();
  auto mon = sw.port("mon").take_sent();
  ASSERT_EQ(mon.size(), 1u);  // what va was sent (egress): vb's broadcast
  EXPECT_EQ(mon[0].bytes, frame("ff:ff:ff:ff:ff:ff", b));
  sw.port("eth0").take_sent();
  sw.port("va").take_sent();

  sw.port("va").inject(frame(b, a, -1, 100));
  sw.step();
  ASSERT_EQ(sw.port("vb").take_sent().size(), 1u);
  mon = sw.port("mon").take_sent();
  ASSERT_EQ(mon.size(), 1u);  // what va received (ingress), as it was
  EXPECT_EQ(mon[0].bytes, frame(b, a, -1, 100));
  auto rspan = sw.port("eth0").take_sent();
  ASSERT_EQ(rspan.size(), 1u);  // s2: va's ingress out of eth0 on VLAN 99
  EXPECT_EQ(test::frame_vid(rspan[0].bytes), 99);

  // The destination is no port of the network: its own frames go nowhere, floods skip it.
  sw.port("mon").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:33"));
  sw.step();
  EXPECT_TRUE(sw.port("va").take_sent().empty());
  EXPECT_TRUE(sw.port("vb").take_sent().empty());
  EXPECT_EQ(sw.ctl.mirror_status("s1")["packets"], 2u);
  EXPECT_EQ(sw.ctl.mirror_status("s1")["bytes"], 60u + 114u);
  EXPECT_EQ(sw.ctl.mirror_status("s2")["packets"], 1u);

  // The session goes: nothing copied, its counters gone.
  va.erase("mirrors");
  ASSERT_TRUE(apply());
  EXPECT_EQ(sw.opens["va"], 1);
  sw.port("va").inject(frame(b, a));
  sw.step();
  EXPECT_TRUE(sw.port("mon").take_sent().empty());
  EXPECT_TRUE(sw.ctl.mirror_status("s1").empty());
}

}  // namespace
}  // namespace hvnet
