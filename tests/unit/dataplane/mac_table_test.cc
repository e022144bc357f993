#include "dataplane/mac_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace hvnet {
namespace {

constexpr uint64_t kMacA = 0x00163e000001;
constexpr uint64_t kMacB = 0x00163e000002;

TEST(MacTable, LearnsAndLooksUpPerBridge) {
  MacTable t(64, 300);
  t.reserve_lports(4);
  EXPECT_EQ(t.learn(0, kMacA, 1, 10), MacTable::LearnResult::kNew);
  EXPECT_EQ(t.lookup(0, kMacA, 10), 1u);
  EXPECT_EQ(t.lookup(1, kMacA, 10), kNoLport);  // same MAC, other bridge: unknown
  EXPECT_EQ(t.learn(0, kMacA, 1, 11), MacTable::LearnResult::kRefreshed);
  EXPECT_EQ(t.size(), 1u);
}

TEST(MacTable, AgesOutWithInjectedClock) {
  MacTable t(64, 300);
  t.reserve_lports(4);
  t.learn(0, kMacA, 1, 1000);
  t.learn(0, kMacB, 2, 1200);
  EXPECT_EQ(t.lookup(0, kMacA, 1300), 1u);  // exactly 300 s: still valid
  EXPECT_EQ(t.lookup(0, kMacA, 1301), kNoLport);
  EXPECT_EQ(t.expire(1301), 1u);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup(0, kMacB, 1301), 2u);
  // Refreshing keeps an entry alive past its first ageing deadline.
  t.learn(0, kMacB, 2, 1450);
  EXPECT_EQ(t.expire(1600), 0u);
  EXPECT_EQ(t.lookup(0, kMacB, 1600), 2u);
}

TEST(MacTable, ConfigurableAgeing) {
  MacTable t(64, 300);
  t.reserve_lports(2);
  t.set_ageing(15);
  t.learn(0, kMacA, 1, 0);
  EXPECT_EQ(t.lookup(0, kMacA, 15), 1u);
  EXPECT_EQ(t.lookup(0, kMacA, 16), kNoLport);
}

TEST(MacTable, MacMoveUpdatesPort) {
  MacTable t(64, 300);
  t.reserve_lports(4);
  t.learn(0, kMacA, 1, 5);
  EXPECT_EQ(t.learn(0, kMacA, 3, 6), MacTable::LearnResult::kMoved);
  EXPECT_EQ(t.lookup(0, kMacA, 6), 3u);
  EXPECT_EQ(t.count_on(1), 0u);
  EXPECT_EQ(t.count_on(3), 1u);
}

TEST(MacTable, FullTableEvictsFromThePortWithMostEntries) {
  MacTable t(100, 300);
  t.reserve_lports(4);
  for (uint64_t i = 0; i < 10; ++i) t.learn(0, 0x020000000000 + i, 1, 1);  // a quiet port
  for (uint64_t i = 0; i < 90; ++i) t.learn(0, 0x040000000000 + i, 2, 2);  // a noisy port
  ASSERT_EQ(t.size(), 100u);
  // Port 2 keeps flooding new source MACs: it only ever evicts its own oldest entries.
  for (uint64_t i = 0; i < 500; ++i)
    EXPECT_EQ(t.learn(0, 0x060000000000 + i, 2, 3), MacTable::LearnResult::kNewEvicted);
  EXPECT_EQ(t.size(), 100u);
  EXPECT_EQ(t.count_on(1), 10u);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(t.lookup(0, 0x020000000000 + i, 3), 1u);
  EXPECT_EQ(t.lookup(0, 0x060000000000 + 499, 3), 2u);
  EXPECT_EQ(t.lookup(0, 0x060000000000 + 0, 3), kNoLport);  // oldest of port 2 went first
}

TEST(MacTable, FlushByPortAndBridge) {
  MacTable t(64, 300);
  t.reserve_lports(4);
  t.learn(0, kMacA, 1, 1);
  t.learn(0, kMacB, 2, 1);
  t.learn(1, kMacA, 3, 1);
  EXPECT_EQ(t.flush_lport(1), 1u);
  EXPECT_EQ(t.lookup(0, kMacA, 1), kNoLport);
  EXPECT_EQ(t.flush_bridge(1), 1u);
  EXPECT_EQ(t.lookup(1, kMacA, 1), kNoLport);
  EXPECT_EQ(t.lookup(0, kMacB, 1), 2u);
}

TEST(MacTable, MatchesAReferenceMapUnderRandomChurn) {
  MacTable t(512, 1000000);
  t.reserve_lports(8);
  std::map<uint64_t, LportId> ref;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200000; ++step) {
    uint64_t m = rng() % 400;  // fewer keys than capacity: no eviction
    LportId lp = LportId(rng() % 8);
    if (rng() % 4 == 0) {
      t.flush_lport(lp);
      for (auto it = ref.begin(); it != ref.end();) it = it->second == lp ? ref.erase(it) : ++it;
    } else {
      t.learn(0, m, lp, 1);
      ref[m] = lp;
    }
  }
  EXPECT_EQ(t.size(), ref.size());
  for (uint64_t m = 0; m < 400; ++m) {
    auto it = ref.find(m);
    EXPECT_EQ(t.lookup(0, m, 1), it == ref.end() ? kNoLport : it->second) << m;
  }
}

TEST(MacTable, UnknownLportIsNotLearned) {
  MacTable t(8, 300);
  t.reserve_lports(2);
  EXPECT_EQ(t.learn(0, kMacA, 5, 1), MacTable::LearnResult::kIgnored);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace hvnet
