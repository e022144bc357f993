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
      if (wire[m]) b.rx(m, p);
    });
    b.run(now, [&](size_t m, const Lacpdu& p) {
      if (wire[m]) a.rx(m, p);
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
  // The aggregate wait (2 s) comes first: nobody distributes before it.
  x.advance_to(1900);
  EXPECT_FALSE(x.a.may_enable(0));
  EXPECT_FALSE(x.a.status(0).actor.state & kStateSync);
  x.advance_to(2500);
  for (size_t m = 0; m < 2; ++m) {
    EXPECT_TRUE(x.a.may_enable(m)) << m;
    EXPECT_TRUE(x.b.may_enable(m)) << m;
    auto st = x.a.status(m);
    EXPECT_EQ(st.rx, RxState::kCurrent);
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
  EXPECT_EQ(x.a.status(0).rx, RxState::kCurrent);
  x.advance_to(cut + 3100);
  EXPECT_EQ(x.a.status(0).rx, RxState::kExpired);
  EXPECT_FALSE(x.a.may_enable(0));  // an expired partner is out of sync
  EXPECT_TRUE(x.a.may_enable(1));   // the other link carries on
  EXPECT_TRUE(x.a.status(0).actor.state & kStateExpired);
  x.advance_to(cut + 4900);
  EXPECT_EQ(x.a.status(0).rx, RxState::kExpired);
  x.advance_to(cut + 6100);
  EXPECT_EQ(x.a.status(0).rx, RxState::kDefaulted);
  EXPECT_TRUE(x.a.status(0).actor.state & kStateDefaulted);
  EXPECT_EQ(x.a.status(0).partner.sys_mac, (std::array<uint8_t, 6>{}));
  x.wire[0] = true;
  const uint64_t fixed = x.now;
  x.advance_to(fixed + 3500);  // a PDU within 1 s, then the aggregate wait
  EXPECT_EQ(x.a.status(0).rx, RxState::kCurrent);
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
    if (x.a.status(0).rx == RxState::kExpired) expired_at = x.now;
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
  EXPECT_EQ(a.status(0).rx, RxState::kDefaulted);
}

TEST(Lacp, LoopbackIsDetectedAndNeverAttached) {
  Lacp a(cfg(1, true));
  a.add_member(1);
  a.add_member(2);
  a.set_enabled(0, true);
  a.set_enabled(1, true);
  for (uint64_t t = 0; t <= 3000; t += 100)
    a.run(t, [&](size_t m, const Lacpdu& p) { a.rx(1 - m, p); });  // member 0 wired to 1
  EXPECT_TRUE(a.status(0).loopback);
  EXPECT_FALSE(a.may_enable(0));
  EXPECT_FALSE(a.may_enable(1));
}

// One actor and a partner scripted by the test: it answers with the PDUs the test writes.
struct Scripted {
  explicit Scripted(bool fast = true) : a(cfg(1, fast)) {
    for (uint16_t i = 0; i < 2; ++i) {
      a.add_member(i + 1);
      a.set_enabled(i, true);
    }
  }
  void run_to(uint64_t t) {
    while (now < t) {
      now += 100;
      a.run(now, [&](size_t m, const Lacpdu& p) { sent[m].push_back(p); });
    }
  }
  // The partner's PDU on member m: its own state bits, and (if it heard us) our actor as its
  // partner.
  Lacpdu pdu(size_t m, uint8_t state, bool knows_us = true, uint16_t key = 7) const {
    Lacpdu p;
    p.actor = {100,  {2, 0, 0, 0, 0, 9}, key,
               0x80, uint16_t(m + 1),    uint8_t(kStateActivity | kStateAggregation | state)};
    if (knows_us && !sent[m].empty()) p.partner = sent[m].back().actor;
    return p;
  }
  // The partner speaks every second on member m for `ms`, with `state` (or state(now)).
  void talk(size_t m, uint64_t ms, uint8_t state, bool knows_us = true) {
    const uint64_t until = now + ms;
    while (now < until) {
      a.rx(m, pdu(m, state, knows_us));
      run_to(now + 1000);
    }
  }
  uint8_t our_state(size_t m) const { return sent[m].back().actor.state; }
  bool ever_claimed(size_t m, uint8_t bits) const {
    for (const auto& p : sent[m])
      if (p.actor.state & bits) return true;
    return false;
  }
  Lacp a;
  std::vector<Lacpdu> sent[2];
  uint64_t now = 0;
};
constexpr uint8_t kSyncCollDist = kStateSync | kStateCollecting | kStateDistributing;
constexpr uint8_t kCollDist = kStateCollecting | kStateDistributing;

TEST(LacpScripted, FirstReplyToAFreshPartnerDoesNotClaimSync) {
  Scripted x;
  x.run_to(100);
  x.a.rx(0, x.pdu(0, kSyncCollDist));
  x.run_to(200);
  ASSERT_GE(x.sent[0].size(), 2u);
  EXPECT_EQ(x.our_state(0), kStateActivity | kStateTimeout | kStateAggregation);  // 0x07
  EXPECT_EQ(x.sent[0].back().partner.sys_mac, x.pdu(0, 0).actor.sys_mac);
  EXPECT_FALSE(x.ever_claimed(0, kSyncCollDist));
}

TEST(LacpScripted, APartnerOutOfSyncNeverGetsCollectingOrDistributing) {
  Scripted x;
  x.talk(0, 10000, 0);                       // it knows us but never says Synchronization
  EXPECT_TRUE(x.our_state(0) & kStateSync);  // we attached after the aggregate wait
  EXPECT_FALSE(x.ever_claimed(0, kCollDist));
  EXPECT_FALSE(x.a.may_enable(0));
  EXPECT_EQ(x.a.status(0).mux, MuxState::kAttached);
  x.talk(0, 1000, kStateSync);  // now it does: we collect and distribute at once
  EXPECT_EQ(x.our_state(0) & kSyncCollDist, kSyncCollDist);
  EXPECT_TRUE(x.a.may_enable(0));
}

TEST(LacpScripted, SyncClaimedWithAnAllZeroViewOfUsEnablesNothing) {
  Scripted x;
  x.talk(0, 10000, kSyncCollDist, /*knows_us=*/false);
  EXPECT_FALSE(x.a.may_enable(0));
  EXPECT_FALSE(x.a.status(0).partner.state & kStateSync);
  EXPECT_FALSE(x.ever_claimed(0, kCollDist));
  x.talk(0, 2000, kSyncCollDist);  // the same partner once it has heard us
  EXPECT_TRUE(x.a.may_enable(0));
}

TEST(LacpScripted, NegotiationWaitsTheAggregateWaitThenFollowsThePartner) {
  Scripted x;
  x.a.rx(0, x.pdu(0, 0));
  x.run_to(x.now + 1900);
  EXPECT_EQ(x.a.status(0).mux, MuxState::kWaiting);
  EXPECT_FALSE(x.ever_claimed(0, kStateSync));
  x.talk(0, 2000, kStateSync);
  EXPECT_TRUE(x.a.may_enable(0));
}

TEST(LacpScripted, LacpTimeOnALiveBondChangesOnlyTheTimeoutBitAndTheRate) {
  Scripted x(/*fast=*/true);
  x.talk(0, 4000, kSyncCollDist | kStateTimeout);
  ASSERT_TRUE(x.a.may_enable(0));
  const LacpInfo partner = x.a.status(0).partner;
  const size_t before = x.sent[0].size();
  LacpConfig slow = cfg(1, false);
  x.a.configure(slow);
  x.run_to(x.now + 100);
  ASSERT_EQ(x.sent[0].size(), before + 1);  // told at once
  EXPECT_EQ(x.our_state(0), kStateActivity | kStateAggregation | kSyncCollDist);
  EXPECT_TRUE(x.a.may_enable(0));
  EXPECT_EQ(x.a.status(0).rx, RxState::kCurrent);
  EXPECT_EQ(x.a.status(0).partner, partner);
  // The partner answers with our new view; it still asks for fast PDUs, so we keep sending fast,
  // and our own timeout is long now: 3 s of silence no longer expires it.
  x.talk(0, 1000, kSyncCollDist | kStateTimeout);
  const size_t n = x.sent[0].size();
  x.run_to(x.now + 3500);
  EXPECT_GE(x.sent[0].size() - n, 3u);
  EXPECT_EQ(x.a.status(0).rx, RxState::kCurrent);
  EXPECT_TRUE(x.a.may_enable(0));
}

TEST(LacpScripted, ExpiryClearsPartnerSyncStopsCollectingAndEchoesShortTimeout) {
  Scripted x(/*fast=*/true);
  x.talk(0, 4000, kSyncCollDist);  // a partner with the long timeout
  ASSERT_TRUE(x.a.may_enable(0));
  EXPECT_FALSE(x.sent[0].back().partner.state & kStateTimeout);
  x.run_to(x.now + 3100);  // silence for our 3 s timeout
  EXPECT_EQ(x.a.status(0).rx, RxState::kExpired);
  EXPECT_FALSE(x.a.may_enable(0));
  EXPECT_EQ(x.a.status(0).mux, MuxState::kAttached);
  const Lacpdu& last = x.sent[0].back();
  EXPECT_EQ(last.actor.state & kSyncCollDist, kStateSync);
  EXPECT_TRUE(last.actor.state & kStateExpired);
  EXPECT_TRUE(last.partner.state & kStateTimeout);  // forced short, so we send fast meanwhile
  EXPECT_FALSE(last.partner.state & kStateSync);
}

TEST(LacpScripted, AMemberFacingAnotherPartnerSystemStandsBy) {
  Scripted x;
  for (int i = 0; i < 5; ++i) {
    x.a.rx(0, x.pdu(0, kStateSync));
    x.a.rx(1, x.pdu(1, kStateSync, true, /*key=*/8));  // another aggregator
    x.run_to(x.now + 1000);
  }
  EXPECT_TRUE(x.a.may_enable(0));
  EXPECT_FALSE(x.a.may_enable(1));
  EXPECT_EQ(x.a.status(1).selected, Selected::kStandby);
  EXPECT_FALSE(x.a.status(1).attached);
}

TEST(LacpScripted, NoMoreThanThreePdusInAFastPeriod) {
  Scripted x;
  x.run_to(100);
  // A partner whose view of us is wrong ten times within 100 ms makes us want to speak each time.
  for (int i = 0; i < 10; ++i) {
    Lacpdu p = x.pdu(0, 0);
    p.partner.key = uint16_t(100 + i);
    x.a.rx(0, p);
    x.a.run(x.now, [&](size_t m, const Lacpdu& p) { x.sent[m].push_back(p); });
  }
  EXPECT_EQ(x.sent[0].size(), size_t(kMaxTxPerFastPeriod));
  x.run_to(1100);  // the wish is kept, and granted once the period is over
  EXPECT_EQ(x.sent[0].size(), size_t(kMaxTxPerFastPeriod) + 1);
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
