#include "packet/headers.h"

#include <gtest/gtest.h>

#include "../frames.h"
#include "packet/mac.h"

namespace hvnet {
namespace {

TEST(MacAddr, ParsesAndFormats) {
  auto m = MacAddr::parse("00:16:3E:aa:bb:0c");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to_string(), "00:16:3e:aa:bb:0c");
  EXPECT_EQ(MacAddr::from_u64(m->to_u64()), *m);
  EXPECT_FALSE(MacAddr::parse("00:16:3e:aa:bb"));
  EXPECT_FALSE(MacAddr::parse("00:16:3e:aa:bb:0g"));
  EXPECT_TRUE(MacAddr::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
  EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:01")->is_multicast());
}

TEST(EthView, UntaggedAndTagged) {
  auto f = test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01");
  EthView v;
  ASSERT_EQ(parse_eth(f.data(), uint32_t(f.size()), v), EthParseError::kNone);
  EXPECT_FALSE(v.tagged);
  EXPECT_EQ(v.hdr_len, 14u);
  EXPECT_EQ(v.ethertype, kEtherTypeIpv4);

  auto t = test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01", 42, 46, 0x0806, 5);
  ASSERT_EQ(parse_eth(t.data(), uint32_t(t.size()), v), EthParseError::kNone);
  EXPECT_TRUE(v.tagged);
  EXPECT_EQ(v.vid(), 42);
  EXPECT_EQ(v.tci >> 13, 5);
  EXPECT_EQ(v.ethertype, kEtherTypeArp);
  EXPECT_EQ(v.hdr_len, 18u);
}

TEST(EthView, RuntAndTruncatedTagAreErrors) {
  auto t = test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01", 42, 0);
  EthView v;
  EXPECT_EQ(parse_eth(t.data(), 13, v), EthParseError::kRunt);
  EXPECT_EQ(parse_eth(t.data(), 16, v), EthParseError::kTruncatedTag);
}

TEST(ArpView, ParsesRequestAndRejectsShortOrNonIpv4) {
  std::vector<uint8_t> a = {0,  1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0x3e, 0, 0, 1,
                            10, 0, 0, 1, 0, 0, 0, 0, 0, 0,    10,   0, 0, 2};
  auto v = parse_arp(a.data(), uint32_t(a.size()));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->op, 1);
  EXPECT_EQ(v->spa, 0x0a000001u);
  EXPECT_EQ(v->tpa, 0x0a000002u);
  EXPECT_FALSE(parse_arp(a.data(), 27));
  a[2] = 0x86;  // ptype IPv6: not ARP for IPv4
  EXPECT_FALSE(parse_arp(a.data(), uint32_t(a.size())));
}

TEST(Ipv4View, ParsesAndRejectsBadIhl) {
  std::vector<uint8_t> ip(20, 0);
  ip[0] = 0x45;
  ip[9] = 17;
  ip[12] = 10;
  ip[15] = 1;
  ip[16] = 10;
  ip[19] = 2;
  auto v = parse_ipv4(ip.data(), 20);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->src, 0x0a000001u);
  EXPECT_EQ(v->proto, 17);
  EXPECT_FALSE(v->is_fragment);
  ip[0] = 0x4f;  // IHL 60 > 20 bytes present
  EXPECT_FALSE(parse_ipv4(ip.data(), 20));
  ip[0] = 0x65;
  EXPECT_FALSE(parse_ipv4(ip.data(), 20));
}

TEST(NdView, NeighbourAdvertWithTargetLinkLayerOption) {
  std::vector<uint8_t> na(32, 0);
  na[0] = kIcmpv6NeighAdvert;
  na[8] = 0xfe;
  na[9] = 0x80;
  na[24] = 2;  // target link-layer address option
  na[25] = 1;  // 8 bytes
  na[26] = 0x00;
  na[27] = 0x16;
  auto v = parse_icmpv6_nd(na.data(), uint32_t(na.size()));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->type, kIcmpv6NeighAdvert);
  ASSERT_NE(v->target, nullptr);
  EXPECT_EQ(v->target[0], 0xfe);
  ASSERT_NE(v->lladdr, nullptr);
  EXPECT_EQ(v->lladdr[1], 0x16);
  na[25] = 0;  // a zero-length option is malformed (would loop forever)
  EXPECT_FALSE(parse_icmpv6_nd(na.data(), uint32_t(na.size())));
  EXPECT_FALSE(parse_icmpv6_nd(na.data(), 20));
}

TEST(Ipv6AndUdp, ParseAndBounds) {
  std::vector<uint8_t> ip6(40, 0);
  ip6[0] = 0x60;
  ip6[6] = 58;
  auto v = parse_ipv6(ip6.data(), 40);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->next_header, 58);
  EXPECT_FALSE(parse_ipv6(ip6.data(), 39));
  std::vector<uint8_t> udp = {0, 68, 0, 67, 0, 8, 0, 0};
  auto u = parse_udp(udp.data(), 8);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->src_port, 68);
  EXPECT_EQ(u->dst_port, 67);
  EXPECT_FALSE(parse_udp(udp.data(), 7));
}

}  // namespace
}  // namespace hvnet
