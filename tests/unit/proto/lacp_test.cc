// Two hvnet LACP actors back to back with a frozen clock, in the style of Open vSwitch's tests.
#include "proto/lacp.h"

#include <gtest/gtest.h>

namespace hvnet::proto {
namespace {

LacpConfig cfg(uint8_t id, bool fast, bool fallback = false) {
  LacpConfig c;
  c.sys_mac = {0x02, 0, 0, 0, 0, id};
  c.key = 10 + id;
  c.fast = fast;
  c.fallback_ab = fallback;
  return c;
}

// a.member[i] is wired to b.member[i]; a cut wire drops PDUs but keeps carrier (as OVS's test).
struct BackToBack {
  BackToBack(bool fast_a, bool fast_b) : a(cfg(1, fast_a)), b(cfg(2, fast_b)) {
    for (uint16_t i = 0; i < 2; ++i) {
      a.add_member(i + 1);
      b.add_member(i + 1);
      a.set_enabled(i, true);
      b.set_enabled(i, true);
    }
  }
  void tick() {
    a.run(now, [&](size_t m, const Lacpdu& p) {
      if (wire[m]) b.rx(m, p, now);
    });
    b.run(now, [&](size_t m, const Lacpdu& p) {
      if (wire[m]) a.rx(m, p, now);
    });
  }
  void advance_to(uint64_t t) {
    while (now < t) {
      now += 100;
      tick();
    }
  }
  Lacp a, b;
  bool wire[2] = {true, true};
  uint64_t now = 0;
};

TEST(Lacp, TwoActorsNegotiateAndDistribute) {
  BackToBack x(true, true);
  x.tick();
  x.advance_to(1000);
  for (size_t m = 0; m < 2; ++m) {
    EXPECT_TRUE(x.a.may_enable(m)) << m;
    EXPECT_TRUE(x.b.may_enable(m)) << m;
    auto st = x.a.status(m);
    EXPECT_EQ(st.rx, LacpRxStatus::kCurrent);
    EXPECT_EQ(st.partner.sys_mac, cfg(2, true).sys_mac);
    EXPECT_EQ(st.partner.key, 12);
    EXPECT_TRUE(st.actor.state & kStateDistributing);
    EXPECT_TRUE(st.partner.state & kStateSync);
  }
  EXPECT_TRUE(x.a.negotiated());
}

TEST(Lacp, CutLinkExpiresAfterThreeSecondsThenDefaultsThenRenegotiates) {
  BackToBack x(true, true);
  x.advance_to(5000);
  ASSERT_TRUE(x.a.may_enable(0));
  x.wire[0] = false;
  const uint64_t cut = x.now;
  x.advance_to(cut + 1900);
  EXPECT_EQ(x.a.status(0).rx, LacpRxStatus::kCurrent);
  x.advance_to(cut + 3100);
  EXPECT_EQ(x.a.status(0).rx, LacpRxStatus::kExpired);
  EXPECT_FALSE(x.a.may_enable(0));  // an expired partner is out of sync
  EXPECT_TRUE(x.a.may_enable(1));   // the other link carries on
  EXPECT_TRUE(x.a.status(0).actor.state & kStateExpired);
  x.advance_to(cut + 4900);
  EXPECT_EQ(x.a.status(0).rx, LacpRxStatus::kExpired);
  x.advance_to(cut + 6100);
  EXPECT_EQ(x.a.status(0).rx, LacpRxStatus::kDefaulted);
  EXPECT_TRUE(x.a.status(0).actor.state & kStateDefaulted);
  EXPECT_EQ(x.a.status(0).partner, LacpInfo{});
  x.wire[0] = true;
  const uint64_t fixed = x.now;
  x.advance_to(fixed + 2000);
  EXPECT_EQ(x.a.status(0).rx, LacpRxStatus::kCurrent);
  EXPECT_TRUE(x.a.may_enable(0));
  EXPECT_TRUE(x.b.may_enable(0));
}

TEST(Lacp, SlowRateSendsEveryThirtySecondsAndTimesOutAfterNinety) {
  BackToBack x(false, false);
  x.advance_to(5000);
  ASSERT_TRUE(x.a.may_enable(0));
  uint64_t before = x.a.status(0).pdus_tx;
  x.advance_to(5000 + 95000);
  uint64_t sent = x.a.status(0).pdus_tx - before;
  EXPECT_GE(sent, 3u);
  EXPECT_LE(sent, 4u);
  x.wire[0] = false;
  const uint64_t cut = x.now;
  // The last PDU arrived at most 30 s before the cut: expiry comes 60..90 s after the cut.
  uint64_t expired_at = 0;
  while (x.now < cut + 100000 && !expired_at) {
    x.advance_to(x.now + 100);
    if (x.a.status(0).rx == LacpRxStatus::kExpired) expired_at = x.now;
  }
  EXPECT_GE(expired_at, cut + 60000);
  EXPECT_LE(expired_at, cut + 90100);
}

TEST(Lacp, FastPartnerGetsFastPdusFromASlowActor) {
  BackToBack x(false, true);  // b asks for fast
  x.advance_to(5000);
  uint64_t before = x.a.status(0).pdus_tx;
  x.advance_to(15000);
  EXPECT_GE(x.a.status(0).pdus_tx - before, 9u);
}

TEST(Lacp, SilentPartnerStaysDefaultedAndFallbackIsReported) {
  Lacp a(cfg(1, true, /*fallback=*/true));
  a.add_member(1);
  a.add_member(2);
  a.set_enabled(0, true);
  a.set_enabled(1, true);
  int sent = 0;
  for (uint64_t t = 0; t <= 10000; t += 100) a.run(t, [&](size_t, const Lacpdu&) { ++sent; });
  EXPECT_GT(sent, 0);  // an active actor keeps speaking
  EXPECT_FALSE(a.negotiated());
  EXPECT_TRUE(a.fallback_ab());
  EXPECT_FALSE(a.may_enable(0));
  EXPECT_EQ(a.status(0).rx, LacpRxStatus::kDefaulted);
}

TEST(Lacp, LoopbackIsDetectedAndNeverAttached) {
  Lacp a(cfg(1, true));
  a.add_member(1);
  a.add_member(2);
  a.set_enabled(0, true);
  a.set_enabled(1, true);
  for (uint64_t t = 0; t <= 3000; t += 100)
    a.run(t, [&](size_t m, const Lacpdu& p) { a.rx(1 - m, p, t); });  // member 0 wired to 1
  EXPECT_TRUE(a.status(0).loopback);
  EXPECT_FALSE(a.may_enable(0));
  EXPECT_FALSE(a.may_enable(1));
}

TEST(Lacp, MemberWithAnotherPartnerSystemDoesNotAttach) {
  Lacp a(cfg(1, true));
  a.add_member(1);
  a.add_member(2);
  a.set_enabled(0, true);
  a.set_enabled(1, true);
  Lacpdu p1, p2;
  p1.actor = {100, {2, 0, 0, 0, 0, 2},
              7,   1,
              1,   kStateActivity | kStateAggregation | kStateSync | kStateCollecting};
  p2.actor = p1.actor;
  p2.actor.key = 8;  // a different aggregator on the switch
  p2.actor.sys_priority = 200;
  a.rx(0, p1, 0);
  a.rx(1, p2, 0);
  a.run(0, [](size_t, const Lacpdu&) {});
  EXPECT_TRUE(a.may_enable(0));
  EXPECT_FALSE(a.may_enable(1));
  EXPECT_FALSE(a.status(1).attached);
}

TEST(Lacpdu, EncodeDecodeRoundTripAndRejectsGarbage) {
  Lacpdu p;
  p.actor = {65534, {2, 0, 0, 0, 0, 1}, 11, 255, 3, kStateActivity | kStateTimeout};
  p.partner = {1, {2, 0, 0, 0, 0, 2}, 12, 128, 4, kStateSync};
  p.collector_max_delay = 5;
  uint8_t buf[kLacpduLen];
  encode_lacpdu(p, buf);
  auto back = decode_lacpdu(buf, kLacpduLen);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->actor, p.actor);
  EXPECT_EQ(back->partner, p.partner);
  EXPECT_EQ(back->collector_max_delay, 5);
  EXPECT_FALSE(decode_lacpdu(buf, 40));
  buf[3] = 19;  // actor TLV length wrong
  EXPECT_FALSE(decode_lacpdu(buf, kLacpduLen));
  MarkerPdu m{false, 7, {2, 0, 0, 0, 0, 9}, 0xdeadbeef};
  encode_marker(m, buf);
  auto mb = decode_marker(buf, kLacpduLen);
  ASSERT_TRUE(mb);
  EXPECT_FALSE(mb->response);
  EXPECT_EQ(mb->transaction_id, 0xdeadbeefu);
  EXPECT_EQ(mb->requester_port, 7);
}

}  // namespace
}  // namespace hvnet::proto
