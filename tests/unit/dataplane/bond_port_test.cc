// Bonds over in-memory members with a frozen clock: active-backup failover and delays, balance-slb
// spreading and loop protection, learning packets, and two LACP bonds negotiating back to back.
#include "dataplane/bond_port.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "../frames.h"
#include "../mem_switch.h"
#include "dataplane/bond_hash.h"
#include "proto/lacpdu.h"

namespace hvnet {
namespace {

using test::frame;

nlohmann::json bond_topology(const char* mode, nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json bond = {{"name", "bond0"},
                         {"type", "bond"},
                         {"network", "n"},
                         {"members", {"eth0", "eth1"}},
                         {"mode", mode}};
  bond.update(extra);
  return {{"networks", {{{"name", "n"}}}},
          {"ports",
           {bond, {{"name", "vif1"}, {"network", "n"}}, {{"name", "vif2"}, {"network", "n"}}}}};
}

struct BondFixture {
  explicit BondFixture(const char* mode, nlohmann::json extra = nlohmann::json::object()) {
    EXPECT_TRUE(sw.apply_json(bond_topology(mode, extra)));
    step(0);
  }
  void step(uint64_t ms) {
    sw.now_ms += ms;
    sw.worker.poll_once(0);
  }
  BondPort& bond() { return *sw.bonds.at("bond0"); }
  size_t sent(const char* port) { return sw.port(port).take_sent().size(); }
  void drain() {
    for (auto& [n, p] : sw.ports) p->take_sent();
  }
  test::MemSwitch sw;
};

TEST(BondActiveBackup, OneActiveMemberBackupsDropWhatTheyReceive) {
  BondFixture f("active-backup");
  EXPECT_EQ(f.bond().active_member(), 0);
  f.drain();
  for (int i = 0; i < 10; ++i) {
    char m[18];
    std::snprintf(m, sizeof m, "00:16:3e:00:01:%02x", i);
    f.sw.port("vif1").inject(frame("52:54:00:00:00:09", m));
  }
  f.sw.step();
  EXPECT_EQ(f.sent("eth0"), 10u);
  EXPECT_EQ(f.sent("eth1"), 0u);
  f.sw.port("eth1").inject(frame("ff:ff:ff:ff:ff:ff", "52:54:00:00:00:09"));
  f.sw.step();
  EXPECT_EQ(f.sent("vif1"), 0u);  // dropped on the backup
  f.sw.port("eth0").inject(frame("ff:ff:ff:ff:ff:ff", "52:54:00:00:00:09"));
  f.sw.step();
  EXPECT_EQ(f.sent("vif1"), 1u);
}

TEST(BondActiveBackup, CarrierLossFailsOverAndSendsLearningPackets) {
  BondFixture f("active-backup");
  f.sw.port("vif1").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  f.sw.port("vif2").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:02"));
  f.sw.step();
  f.drain();
  f.sw.carrier["eth0"]->store(false);
  f.step(1);
  EXPECT_EQ(f.bond().active_member(), 1);
  auto out = f.sw.port("eth1").take_sent();
  std::set<std::string> announced;
  for (const auto& fr : out) {
    ASSERT_EQ(fr.bytes.size(), 60u);
    EXPECT_EQ(fr.bytes[12], 0x80);  // RARP
    EXPECT_EQ(fr.bytes[13], 0x35);
    announced.insert(MacAddr::from_bytes(fr.bytes.data() + 6).to_string());
  }
  EXPECT_EQ(announced, (std::set<std::string>{"00:16:3e:00:00:01", "00:16:3e:00:00:02"}));
  f.sw.port("vif1").inject(frame("52:54:00:00:00:09", "00:16:3e:00:00:01"));
  f.sw.step();
  EXPECT_EQ(f.sent("eth1"), 1u);
  EXPECT_EQ(f.sent("eth0"), 0u);
}

// A VIF that never sent is announced too (RARP), with a gratuitous ARP for each single address it
// is locked to, on the VLAN the bond carries its network on; a MAC both local and learned goes
// once.
TEST(BondActiveBackup, FailoverAnnouncesEveryLocalVifAndItsKnownAddresses) {
  nlohmann::json topo = bond_topology("active-backup");
  topo["networks"].push_back({{"name", "n7"}});
  topo["ports"][0]["vlans"] = {{{"tag", 7}, {"network", "n7"}}};
  topo["ports"][1]["mac"] = "00:16:3e:00:00:01";
  topo["ports"].push_back(
      {{"name", "vif3"},
       {"network", "n7"},
       {"mac", "00:16:3e:00:00:03"},
       {"locking", {{"mode", "locked"}, {"ipv4", {"10.0.0.3", "10.9.0.0/24"}}}}});
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(topo));
  sw.worker.poll_once(0);
  sw.port("vif1").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  sw.step();
  for (auto& [n, p] : sw.ports) p->take_sent();
  sw.carrier["eth0"]->store(false);
  sw.now_ms += 1;
  sw.worker.poll_once(0);
  ASSERT_EQ(sw.bonds.at("bond0")->active_member(), 1);
  std::multiset<std::string> seen;
  for (const auto& fr : sw.port("eth1").take_sent()) {
    const auto& b = fr.bytes;
    ASSERT_EQ(b.size(), 60u);
    const bool tagged = b[12] == 0x81 && b[13] == 0x00;
    const size_t et = tagged ? 16 : 12;
    const std::string vlan = tagged ? std::to_string(((b[14] << 8) | b[15]) & 0xfff) : "-";
    const std::string mac = MacAddr::from_bytes(b.data() + 6).to_string();
    if (b[et] == 0x80 && b[et + 1] == 0x35) {
      seen.insert("rarp " + mac + " " + vlan);
    } else if (b[et] == 0x08 && b[et + 1] == 0x06) {
      const uint8_t* a = b.data() + et + 2;
      EXPECT_EQ(a[7], 1);                               // a request
      EXPECT_TRUE(std::equal(a + 14, a + 18, a + 24));  // sender address = target address
      EXPECT_TRUE(std::all_of(a + 18, a + 24, [](uint8_t x) { return x == 0; }));
      seen.insert("garp " + mac + " " + vlan + " " + std::to_string(a[14]) + "." +
                  std::to_string(a[15]) + "." + std::to_string(a[16]) + "." +
                  std::to_string(a[17]));
    }
  }
  EXPECT_EQ(seen,
            (std::multiset<std::string>{"rarp 00:16:3e:00:00:01 -", "rarp 00:16:3e:00:00:03 7",
                                        "garp 00:16:3e:00:00:03 7 10.0.0.3"}));
}

TEST(BondActiveBackup, DowndelayAndUpdelayAreHonoured) {
  BondFixture f("active-backup", {{"downdelay_ms", 200}, {"updelay_ms", 500}});
  f.step(600);  // members come up after the updelay
  ASSERT_EQ(f.bond().active_member(), 0);
  f.sw.carrier["eth0"]->store(false);
  f.step(1);
  f.step(150);
  EXPECT_EQ(f.bond().active_member(), 0);  // still within the downdelay
  f.step(100);
  EXPECT_EQ(f.bond().active_member(), 1);
  f.sw.carrier["eth0"]->store(true);
  f.step(1);
  f.step(300);
  EXPECT_EQ(f.bond().active_member(), 1);  // updelay not over yet
  f.step(300);
  EXPECT_EQ(f.bond().active_member(), 0);  // the primary is back
}

TEST(BondBalanceSlb, SourceMacsSpreadOverAllMembers) {
  BondFixture f("balance-slb");
  f.drain();
  for (int i = 0; i < 100; ++i) {
    char m[18];
    std::snprintf(m, sizeof m, "00:16:3e:00:%02x:%02x", i / 256, i % 256);
    f.sw.port("vif1").inject(frame("52:54:00:00:00:09", m));
  }
  f.sw.step();
  size_t a = f.sent("eth0"), b = f.sent("eth1");
  EXPECT_EQ(a + b, 100u);
  EXPECT_GT(a, 25u);
  EXPECT_GT(b, 25u);
}

TEST(BondBalanceSlb, GroupTrafficOnlyOnTheActiveMemberAndLoopsDropped) {
  BondFixture f("balance-slb");
  f.sw.port("vif1").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  f.sw.step();
  f.drain();
  f.sw.port("eth1").inject(frame("ff:ff:ff:ff:ff:ff", "52:54:00:00:00:09"));  // not active
  f.sw.step();
  EXPECT_EQ(f.sent("vif2"), 0u);
  f.sw.port("eth1").inject(frame("00:16:3e:00:00:01", "52:54:00:00:00:09"));  // unicast: fine
  f.sw.step();
  EXPECT_EQ(f.sent("vif1"), 1u);
  // Our own VM's frame reflected by the physical switch comes back: dropped, not relearned.
  f.sw.port("eth0").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  f.sw.step();
  EXPECT_EQ(f.sw.dropped(DropReason::kBondLoop), 1u);
  EXPECT_EQ(f.sent("vif2"), 0u);
}

TEST(BondBalanceSlb, RebalancingMovesLoadedBucketsToTheIdleMember) {
  BondFixture f("balance-slb", {{"rebalance_ms", 1000}});
  f.step(1000);  // first rebalance deadline set
  // Ten busy source MACs whose buckets all start on member 0.
  std::vector<std::string> macs;
  for (int i = 0; macs.size() < 10 && i < 5000; ++i) {
    char m[18];
    std::snprintf(m, sizeof m, "00:16:3e:02:%02x:%02x", i / 256, i % 256);
    auto mac = MacAddr::parse(m)->to_u64();
    uint8_t b = slb_bucket(mac, 0);
    if (b % 2 == 0) macs.push_back(m);
  }
  auto burst = [&] {
    for (int r = 0; r < 5; ++r)
      for (const auto& m : macs)
        f.sw.port("vif1").inject(frame("52:54:00:00:00:09", m.c_str(), -1, 1000));
    f.sw.step();
  };
  burst();
  EXPECT_EQ(f.sent("eth1"), 0u);
  EXPECT_EQ(f.sent("eth0"), 50u);
  f.step(1000);  // rebalance
  EXPECT_TRUE(f.bond().take_learning_request() || f.bond().learning_sent() > 0);
  f.drain();
  burst();
  size_t a = f.sent("eth0"), b = f.sent("eth1");
  EXPECT_EQ(a + b, 50u);
  EXPECT_GE(b, 15u);  // a real share moved
  EXPECT_GE(a, 15u);  // ...without just swapping roles
}

TEST(BondLacp, MarkerRequestsAreAnswered) {
  BondFixture f("lacp");
  std::vector<uint8_t> fr(14 + proto::kLacpduLen);
  std::copy(proto::kSlowProtocolsMac.begin(), proto::kSlowProtocolsMac.end(), fr.begin());
  fr[6] = 2;
  fr[12] = 0x88;
  fr[13] = 0x09;
  proto::encode_marker({false, 3, {2, 0, 0, 0, 0, 5}, 42}, fr.data() + 14);
  f.drain();
  f.sw.port("eth1").inject(fr);
  f.sw.step();
  bool answered = false;
  for (auto& out : f.sw.port("eth1").take_sent()) {
    if (out.bytes.size() < 15 || out.bytes[12] != 0x88 || out.bytes[14] != proto::kSubtypeMarker)
      continue;
    auto m = proto::decode_marker(out.bytes.data() + 14, uint32_t(out.bytes.size() - 14));
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->response);
    EXPECT_EQ(m->transaction_id, 42u);
    answered = true;
  }
  EXPECT_TRUE(answered);
}

// Two LACP bonds whose members are wired back to back through MemPorts.
TEST(BondLacp, TwoBondsNegotiateDistributeAndSurviveACutLink) {
  BondFixture a(
      "lacp",
      {{"lacp_time", "fast"}, {"hashing_algorithm", "src_mac"}, {"mac", "02:00:00:00:00:aa"}});
  BondFixture b("lacp", {{"lacp_time", "fast"}, {"mac", "02:00:00:00:00:bb"}});
  bool wire1 = true;
  auto ferry = [&] {
    for (const char* m : {"eth0", "eth1"}) {
      bool up = std::string(m) == "eth0" || wire1;
      for (auto& fr : a.sw.port(m).take_sent())
        if (up) b.sw.port(m).inject(fr.bytes);
      for (auto& fr : b.sw.port(m).take_sent())
        if (up) a.sw.port(m).inject(fr.bytes);
    }
  };
  for (int i = 0; i < 30; ++i) {
    a.step(100);
    b.step(100);
    ferry();
  }
  EXPECT_TRUE(a.bond().member_carries(0));
  EXPECT_TRUE(a.bond().member_carries(1));
  EXPECT_EQ(a.bond().status()["members"][0]["lacp_partner_system"], "02:00:00:00:00:bb");
  // Hashing 100 source MACs uses both members.
  for (int i = 0; i < 100; ++i) {
    char m[18];
    std::snprintf(m, sizeof m, "00:16:3e:01:%02x:%02x", i / 256, i % 256);
    a.sw.port("vif1").inject(frame("52:54:00:00:00:09", m));
  }
  a.sw.step();
  size_t n0 = 0, n1 = 0;
  for (auto& fr : a.sw.port("eth0").take_sent()) n0 += fr.bytes[12] == 0x08;
  for (auto& fr : a.sw.port("eth1").take_sent()) n1 += fr.bytes[12] == 0x08;
  EXPECT_EQ(n0 + n1, 100u);
  EXPECT_GT(n0, 25u);
  EXPECT_GT(n1, 25u);
  // Cut member 1's wire (carrier stays up): expired after 3 s, traffic all on member 0.
  wire1 = false;
  for (int i = 0; i < 35; ++i) {
    a.step(100);
    b.step(100);
    ferry();
  }
  EXPECT_FALSE(a.bond().member_carries(1));
  EXPECT_TRUE(a.bond().member_carries(0));
  EXPECT_EQ(a.bond().status()["members"][1]["lacp"], "expired");
  wire1 = true;
  for (int i = 0; i < 20; ++i) {
    a.step(100);
    b.step(100);
    ferry();
  }
  EXPECT_TRUE(a.bond().member_carries(1));
}

TEST(BondLacp, SilentPartnerWithFallbackGivesActiveBackup) {
  BondFixture f("lacp", {{"lacp_time", "fast"}, {"lacp_fallback_ab", true}});
  for (int i = 0; i < 20; ++i) f.step(100);
  EXPECT_EQ(f.bond().active_member(), 0);
  EXPECT_TRUE(f.bond().member_carries(0));
  EXPECT_FALSE(f.bond().member_carries(1));
  BondFixture off("lacp", {{"lacp_time", "fast"}, {"lacp_fallback_ab", false}});
  for (int i = 0; i < 20; ++i) off.step(100);
  EXPECT_FALSE(off.bond().member_carries(0));  // no partner, no fallback: no traffic
  EXPECT_FALSE(off.bond().member_carries(1));
}

TEST(BondLacp, LacpdusAreNeverForwardedIntoTheSwitch) {
  BondFixture f("lacp", {{"lacp_time", "fast"}});
  proto::Lacpdu pdu;
  pdu.actor.sys_mac = {2, 0, 0, 0, 0, 0x77};
  pdu.actor.state = proto::kStateActivity | proto::kStateAggregation;
  std::vector<uint8_t> fr(14 + proto::kLacpduLen);
  std::copy(proto::kSlowProtocolsMac.begin(), proto::kSlowProtocolsMac.end(), fr.begin());
  fr[6] = 2;
  fr[12] = 0x88;
  fr[13] = 0x09;
  proto::encode_lacpdu(pdu, fr.data() + 14);
  f.sw.port("eth0").inject(fr);
  f.sw.step();
  EXPECT_EQ(f.sent("vif1"), 0u);
  EXPECT_EQ(f.bond().status()["members"][0]["lacp_pdus_rx"], 1);
}

// A partner scripted with frames: its LACPDUs are built here, ours decoded from what was sent.
struct FramePartner {
  explicit FramePartner(BondFixture& fx) : f(fx) {}
  void collect() {
    for (size_t m = 0; m < 2; ++m)
      for (auto& fr : f.sw.port(m ? "eth1" : "eth0").take_sent())
        if (fr.bytes.size() >= 15 && fr.bytes[12] == 0x88 && fr.bytes[13] == 0x09)
          if (auto p = proto::decode_lacpdu(fr.bytes.data() + 14, uint32_t(fr.bytes.size() - 14)))
            ours[m].push_back(*p);
  }
  void say(size_t m, uint8_t state) {
    proto::Lacpdu pdu;
    pdu.actor = {100,
                 {2, 0, 0, 0, 0, 0x99},
                 7,
                 0x80,
                 uint16_t(m + 1),
                 uint8_t(proto::kStateActivity | proto::kStateAggregation | state)};
    if (!ours[m].empty()) pdu.partner = ours[m].back().actor;
    std::vector<uint8_t> fr(14 + proto::kLacpduLen);
    std::copy(proto::kSlowProtocolsMac.begin(), proto::kSlowProtocolsMac.end(), fr.begin());
    fr[6] = 2;
    fr[11] = 0x99;
    fr[12] = 0x88;
    fr[13] = 0x09;
    proto::encode_lacpdu(pdu, fr.data() + 14);
    f.sw.port(m ? "eth1" : "eth0").inject(fr);
  }
  // Both members: the partner speaks each second with `state`, the bond runs in 100 ms steps.
  void talk(int seconds, uint8_t state) {
    for (int s = 0; s < seconds; ++s) {
      say(0, state);
      say(1, state);
      for (int i = 0; i < 10; ++i) {
        f.step(100);
        collect();
      }
    }
  }
  bool claimed(size_t m, uint8_t bits) const {
    for (const auto& p : ours[m])
      if (p.actor.state & bits) return true;
    return false;
  }
  BondFixture& f;
  std::vector<proto::Lacpdu> ours[2];
};

TEST(BondLacp, AScriptedPartnerOverFramesIsTrustedOnlyOnceInSyncAndLacpTimeChangesLive) {
  BondFixture f("lacp", {{"lacp_time", "fast"}, {"mac", "02:00:00:00:00:aa"}});
  FramePartner p(f);
  constexpr uint8_t kCollDist = proto::kStateCollecting | proto::kStateDistributing;
  constexpr uint8_t kAll = proto::kStateSync | kCollDist;
  f.step(100);
  p.collect();
  p.talk(1, kAll);  // a fresh partner claiming everything: our reply claims nothing yet
  ASSERT_FALSE(p.ours[0].empty());
  EXPECT_FALSE(p.claimed(0, kAll));
  EXPECT_EQ(p.ours[0].back().partner.sys_mac[5], 0x99);
  p.talk(4, 0);  // it knows us but stays out of sync: we attach, never collect
  EXPECT_TRUE(p.ours[0].back().actor.state & proto::kStateSync);
  EXPECT_FALSE(p.claimed(0, kCollDist));
  EXPECT_FALSE(f.bond().member_carries(0));
  EXPECT_FALSE(f.bond().member_carries(1));
  p.talk(1, proto::kStateSync);
  EXPECT_TRUE(f.bond().member_carries(0));
  EXPECT_TRUE(f.bond().member_carries(1));
  EXPECT_EQ(f.bond().status()["members"][0]["lacp_mux"], "collecting_distributing");

  // lacp-time=slow on the running bond: the same actor, only the Timeout bit changes.
  const int opens = f.sw.opens["bond0"];
  const size_t before = p.ours[0].size();
  ASSERT_TRUE(f.sw.apply_json(
      bond_topology("lacp", {{"lacp_time", "slow"}, {"mac", "02:00:00:00:00:aa"}})));
  f.step(100);
  p.collect();
  EXPECT_EQ(f.sw.opens["bond0"], opens);
  ASSERT_GT(p.ours[0].size(), before);
  EXPECT_EQ(p.ours[0].back().actor.state, proto::kStateActivity | proto::kStateAggregation | kAll);
  EXPECT_TRUE(f.bond().member_carries(0));
  EXPECT_TRUE(f.bond().member_carries(1));
  EXPECT_EQ(f.bond().config().lacp_fast, false);
}

TEST(BondLacp, PortNumbersDependOnTheMemberNotItsPlaceInTheList) {
  BondFixture a("lacp", {{"members", {"eth0", "eth1"}}});
  BondFixture b("lacp", {{"members", {"eth1", "eth0"}}});
  std::map<std::string, int> pa, pb;
  const nlohmann::json sa = a.bond().status(), sb = b.bond().status();
  for (const auto& m : sa["members"]) pa[m["device"]] = m["lacp_port"];
  for (const auto& m : sb["members"]) pb[m["device"]] = m["lacp_port"];
  EXPECT_EQ(pa, pb);
  EXPECT_NE(pa["eth0"], pa["eth1"]);
  EXPECT_NE(pa["eth0"], 0);
}

// Per-network failover orders (vSphere's teaming override): on an active-backup bond whose own
// active member is eth0, VLAN 10's network is carried by eth1 (sent and taken in there, not on
// eth0) while the untagged network stays on eth0; when eth1 is cut VLAN 10 moves to eth0 and the
// untagged network does not move; an order changes live, without re-opening the bond.
TEST(BondFailoverOrder, TwoNetworksOnOneBondUseAndFailOverToDifferentMembers) {
  nlohmann::json topo = bond_topology("active-backup");
  topo["networks"].push_back({{"name", "n10"}});
  topo["ports"][0]["vlans"] = {{{"tag", 10}, {"network", "n10"}}};
  topo["ports"][0]["failover_orders"] = {{{"vlan", 10}, {"members", {1, 0}}}};
  topo["ports"].push_back({{"name", "vif10"}, {"network", "n10"}});
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(topo));
  sw.worker.poll_once(0);
  BondPort& bond = *sw.bonds.at("bond0");
  EXPECT_EQ(bond.active_member(), 0);
  auto sent = [&](const char* p) { return sw.port(p).take_sent(); };
  auto drain = [&] {
    for (auto& [n, p] : sw.ports) p->take_sent();
  };
  drain();
  sw.port("vif10").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:10"));
  sw.port("vif1").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  sw.step();
  auto on1 = sent("eth1"), on0 = sent("eth0");
  ASSERT_EQ(on1.size(), 1u);
  EXPECT_EQ(test::frame_vid(on1[0].bytes), 10);
  ASSERT_EQ(on0.size(), 1u);
  EXPECT_EQ(test::frame_vid(on0[0].bytes), -1);
  EXPECT_EQ(bond.status()["vlan_active_member"]["10"], "eth1");

  drain();
  sw.port("eth1").inject(frame("ff:ff:ff:ff:ff:ff", "52:54:00:00:00:09", 10));
  sw.port("eth0").inject(frame("ff:ff:ff:ff:ff:ff", "52:54:00:00:00:08", 10));  // not VLAN 10's
  sw.step();
  EXPECT_EQ(sent("vif10").size(), 1u);
  EXPECT_EQ(sent("vif1").size(), 0u);

  sw.carrier["eth1"]->store(false);
  sw.now_ms += 1;
  sw.worker.poll_once(0);
  EXPECT_EQ(bond.active_member(), 0);
  EXPECT_EQ(bond.status()["vlan_active_member"]["10"], "eth0");
  drain();
  sw.port("vif10").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:10"));
  sw.step();
  EXPECT_EQ(sent("eth0").size(), 1u);

  // Only eth1 for VLAN 10, live: with eth1 down, VLAN 10 has no member (its frames fail).
  topo["ports"][0]["failover_orders"] = {{{"vlan", 10}, {"members", {1}}}};
  ASSERT_TRUE(sw.apply_json(topo));
  EXPECT_EQ(sw.opens["bond0"], 1);
  EXPECT_EQ(bond.status()["vlan_active_member"]["10"], "");
  drain();
  sw.port("vif10").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:10"));
  sw.step();
  for (const char* m : {"eth0", "eth1"})
    for (const auto& f : sent(m)) EXPECT_NE(test::frame_vid(f.bytes), 10) << m;  // RARPs only
}

}  // namespace
}  // namespace hvnet
