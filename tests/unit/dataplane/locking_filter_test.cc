// Switch-port locking rules, frame by frame, including ARP and IPv6 neighbour discovery edge cases.
#include "dataplane/locking_filter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "../frames.h"
#include "../mem_switch.h"
#include "packet/headers.h"

namespace hvnet {
namespace {

constexpr const char* kVifMac = "00:16:3e:00:00:01";
constexpr const char* kOther = "00:16:3e:00:00:66";

std::vector<uint8_t> arp(const char* eth_src, const char* sha, const char* spa, uint16_t op = 2) {
  auto f = test::frame("ff:ff:ff:ff:ff:ff", eth_src, -1, 0, kEtherTypeArp);
  uint8_t body[28] = {0, 1, 8, 0, 6, 4, 0, uint8_t(op)};
  auto m = *MacAddr::parse(sha);
  std::copy(m.b.begin(), m.b.end(), body + 8);
  inet_pton(AF_INET, spa, body + 14);
  inet_pton(AF_INET, "10.0.0.99", body + 24);
  f.insert(f.end(), body, body + 28);
  return f;
}

std::vector<uint8_t> ipv4(const char* eth_src, const char* src, uint8_t proto = 1,
                          uint16_t sport = 0, uint16_t dport = 0) {
  auto f = test::frame("52:54:00:00:00:09", eth_src, -1, 0, kEtherTypeIpv4);
  uint8_t h[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, proto};
  inet_pton(AF_INET, src, h + 12);
  inet_pton(AF_INET, "10.0.0.99", h + 16);
  h[20] = uint8_t(sport >> 8), h[21] = uint8_t(sport), h[22] = uint8_t(dport >> 8),
  h[23] = uint8_t(dport);
  f.insert(f.end(), h, h + 28);
  return f;
}

// IPv6 with an ICMPv6 ND message (type, target) and optional link-layer option (type 1 or 2).
std::vector<uint8_t> icmp6(const char* eth_src, const char* src, uint8_t type,
                           const char* target = nullptr, const char* lladdr = nullptr,
                           uint8_t opt = 1) {
  auto f = test::frame("33:33:00:00:00:01", eth_src, -1, 0, kEtherTypeIpv6);
  std::vector<uint8_t> icmp(target ? 24 : 8, 0);
  icmp[0] = type;
  if (target) inet_pton(AF_INET6, target, icmp.data() + 8);
  if (lladdr) {
    auto m = *MacAddr::parse(lladdr);
    icmp.insert(icmp.end(), {opt, 1});
    icmp.insert(icmp.end(), m.b.begin(), m.b.end());
  }
  uint8_t h[40] = {0x60, 0, 0, 0, 0, uint8_t(icmp.size()), 58, 255};
  inet_pton(AF_INET6, src, h + 8);
  inet_pton(AF_INET6, "ff02::1", h + 24);
  f.insert(f.end(), h, h + 40);
  f.insert(f.end(), icmp.begin(), icmp.end());
  return f;
}

class LockingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rules =
        LockingRules::make(LockingMode::kLocked, test::mac(kVifMac), {"10.0.0.1", "10.0.1.0/24"},
                           {"2001:db8::1", "fe80::216:3eff:fe00:1"})
            .value();
  }
  std::string verdict(std::vector<uint8_t> f) {
    Packet p;
    p.data = f.data();
    p.len = uint32_t(f.size());
    p.l2_len = 14;
    auto r = rules.check(p);
    return r ? drop_reason_name(*r) : "pass";
  }
  LockingRules rules;
};

TEST_F(LockingTest, OnlyTheVifMacMayBeTheSource) {
  EXPECT_EQ(verdict(ipv4(kVifMac, "10.0.0.1")), "pass");
  EXPECT_EQ(verdict(ipv4(kOther, "10.0.0.1")), "lock_mac");
}

TEST_F(LockingTest, ArpNeedsTheVifMacAndAnAllowedSenderOrAProbe) {
  EXPECT_EQ(verdict(arp(kVifMac, kVifMac, "10.0.0.1")), "pass");
  EXPECT_EQ(verdict(arp(kVifMac, kVifMac, "10.0.1.77")), "pass");     // inside an allowed prefix
  EXPECT_EQ(verdict(arp(kVifMac, kVifMac, "0.0.0.0", 1)), "pass");    // address probe
  EXPECT_EQ(verdict(arp(kVifMac, kVifMac, "10.0.0.2")), "lock_arp");  // spoofed reply
  EXPECT_EQ(verdict(arp(kVifMac, kOther, "10.0.0.1")), "lock_arp");   // another sender MAC
  auto cut = arp(kVifMac, kVifMac, "10.0.0.1");
  cut.resize(30);  // truncated ARP body
  EXPECT_EQ(verdict(cut), "lock_arp");
}

TEST_F(LockingTest, Ipv4SourcesAndDhcpDiscovery) {
  EXPECT_EQ(verdict(ipv4(kVifMac, "10.0.1.200")), "pass");
  EXPECT_EQ(verdict(ipv4(kVifMac, "10.0.0.2")), "lock_ipv4");
  EXPECT_EQ(verdict(ipv4(kVifMac, "0.0.0.0", 17, 68, 67)), "pass");  // DHCP discover
  EXPECT_EQ(verdict(ipv4(kVifMac, "0.0.0.0", 17, 68, 53)), "lock_ipv4");
  EXPECT_EQ(verdict(ipv4(kVifMac, "0.0.0.0", 6, 68, 67)), "lock_ipv4");
}

TEST_F(LockingTest, Ipv6NeighbourDiscoveryRules) {
  EXPECT_EQ(verdict(icmp6(kVifMac, "2001:db8::1", 128)), "pass");  // echo from an allowed source
  EXPECT_EQ(verdict(icmp6(kVifMac, "2001:db8::2", 128)), "lock_ipv6");
  // Neighbour advertisements only for allowed targets, with our MAC.
  EXPECT_EQ(verdict(icmp6(kVifMac, "2001:db8::1", 136, "2001:db8::1", kVifMac, 2)), "pass");
  EXPECT_EQ(verdict(icmp6(kVifMac, "2001:db8::1", 136, "2001:db8::99", kVifMac, 2)), "lock_nd");
  EXPECT_EQ(verdict(icmp6(kVifMac, "2001:db8::1", 136, "2001:db8::1", kOther, 2)), "lock_nd");
  // Solicitations: the source link-layer option must be ours; DAD from :: is fine.
  EXPECT_EQ(verdict(icmp6(kVifMac, "::", 135, "2001:db8::1")), "pass");
  EXPECT_EQ(verdict(icmp6(kVifMac, "2001:db8::1", 135, "2001:db8::5", kOther)), "lock_nd");
  EXPECT_EQ(verdict(icmp6(kVifMac, "fe80::216:3eff:fe00:1", 135, "2001:db8::5", kVifMac)), "pass");
  // Router advertisements and redirects from a VM never pass.
  EXPECT_EQ(verdict(icmp6(kVifMac, "fe80::216:3eff:fe00:1", 134)), "lock_ra");
  EXPECT_EQ(verdict(icmp6(kVifMac, "fe80::216:3eff:fe00:1", 137, "2001:db8::5")), "lock_ra");
  auto cut = icmp6(kVifMac, "2001:db8::1", 136, "2001:db8::1");
  cut.resize(14 + 40 + 10);  // NA cut short
  EXPECT_EQ(verdict(cut), "lock_nd");
}

TEST_F(LockingTest, OtherEthertypesNoAddressesAndDisabled) {
  EXPECT_EQ(verdict(test::frame("ff:ff:ff:ff:ff:ff", kVifMac, -1, 46, 0x88cc)), "lock_ethertype");
  rules.ipv4.clear();
  rules.ipv6.clear();
  EXPECT_EQ(verdict(ipv4(kVifMac, "10.0.0.1")), "lock_no_ip");
  rules.mode = LockingMode::kDisabled;
  EXPECT_EQ(verdict(ipv4(kVifMac, "10.0.0.1")), "lock_disabled");
  rules.mode = LockingMode::kUnlocked;
  EXPECT_EQ(verdict(ipv4(kOther, "1.2.3.4")), "pass");
}

TEST(LockingRulesParse, AddressesAndPrefixes) {
  EXPECT_TRUE(LockingRules::parse_ipv4("10.0.0.1"));
  EXPECT_TRUE(LockingRules::parse_ipv4("10.0.0.0/8"));
  EXPECT_FALSE(LockingRules::parse_ipv4("10.0.0.256"));
  EXPECT_FALSE(LockingRules::parse_ipv4("10.0.0.0/33"));
  EXPECT_FALSE(LockingRules::parse_ipv4("10.0.0.0/x"));
  EXPECT_TRUE(LockingRules::parse_ipv6("fe80::/64"));
  EXPECT_FALSE(LockingRules::parse_ipv6("fe80::/129"));
  EXPECT_FALSE(LockingRules::parse_ipv6("10.0.0.1"));
  auto r = LockingRules::make(LockingMode::kLocked, 0, {"10.0.0.1", "bogus"}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "INVALID_IP_ADDRESS_SPECIFIED");
  EXPECT_EQ(r.error().params, (std::vector<std::string>{"ipv4_allowed", "bogus"}));
}

TEST(LockingInSwitch, RulesSwapLiveAndDropsAreTracedWithTheirReason) {
  test::MemSwitch sw;
  nlohmann::json topo = {{"networks", {{{"name", "n"}}}},
                         {"ports",
                          {{{"name", "tenant"},
                            {"network", "n"},
                            {"mac", kVifMac},
                            {"locking", {{"mode", "locked"}, {"ipv4", {"10.0.0.1"}}}}},
                           {{"name", "victim"}, {"network", "n"}}}}};
  ASSERT_TRUE(sw.apply_json(topo));
  sw.port("tenant").inject(ipv4(kVifMac, "10.0.0.1"));
  sw.port("tenant").inject(ipv4(kVifMac, "10.0.0.7"));
  sw.port("tenant").inject(arp(kVifMac, kVifMac, "10.0.0.2"));
  sw.step();
  EXPECT_EQ(sw.port("victim").take_sent().size(), 1u);
  EXPECT_EQ(sw.dropped(DropReason::kLockIpv4), 1u);
  EXPECT_EQ(sw.dropped(DropReason::kLockArp), 1u);
  std::vector<std::string> reasons;
  sw.worker.drop_trace().for_each(
      [&](const DropTrace::Entry& e) { reasons.push_back(drop_reason_name(e.reason)); });
  EXPECT_EQ(reasons, (std::vector<std::string>{"lock_ipv4", "lock_arp"}));
  // Allow 10.0.0.7 on the running port: the next frame passes, nothing reopened.
  auto before = sw.slot.get()->ports[0].port;
  topo["ports"][0]["locking"]["ipv4"].push_back("10.0.0.7");
  ASSERT_TRUE(sw.apply_json(topo));
  EXPECT_EQ(sw.slot.get()->ports[0].port, before);
  sw.port("tenant").inject(ipv4(kVifMac, "10.0.0.7"));
  sw.step();
  EXPECT_EQ(sw.port("victim").take_sent().size(), 1u);
}

TEST(QosInSwitch, TransmitRateFollowsTheLimit) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json({{"networks", {{{"name", "n"}}}},
                             {"ports",
                              {{{"name", "vm"}, {"network", "n"}, {"qos_kbps", 1000}},
                               {{"name", "peer"}, {"network", "n"}}}}}));
  // 4000 frames of 1000 bytes queued: 4 MB against 1000 kB/s.
  for (int i = 0; i < 4000; ++i) sw.port("vm").inject(test::frame(kOther, kVifMac, -1, 986));
  size_t delivered = 0;
  for (int ms = 0; ms < 2000; ++ms) {
    sw.now_ms += 1;
    sw.worker.poll_once(0);
    delivered += sw.port("peer").take_sent().size();
  }
  // 2 s at 1,000,000 B/s is 2000 frames, plus the initial bucket (100 kB = 100 frames).
  EXPECT_GE(delivered, 1950u);
  EXPECT_LE(delivered, 2150u);
  EXPECT_EQ(sw.dropped(DropReason::kTxFailed), 0u);
  EXPECT_GT(sw.port("vm").pending_rx(), 0u);  // the rest waits (backpressure), not dropped
}

}  // namespace
}  // namespace hvnet
