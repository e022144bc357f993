// Forwarding on several threads: ports spread over the workers, MACs learned by one worker used by
// the others, floods and bonds across threads, and -- with the threads running -- every frame
// delivered exactly once while the configuration changes (this file is what the ThreadSanitizer
// build exercises most).
#include "dataplane/datapath.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../frames.h"
#include "../mem_switch.h"

namespace hvnet {
namespace {

using test::frame;

constexpr const char* kMac[] = {"00:16:3e:00:00:00", "00:16:3e:00:00:01", "00:16:3e:00:00:02",
                                "00:16:3e:00:00:03", "00:16:3e:00:00:04", "00:16:3e:00:00:05"};

nlohmann::json vifs(int n, bool extra = false) {
  nlohmann::json j = {{"networks", {{{"name", "n"}}, {{"name", "other"}}}},
                      {"ports", nlohmann::json::array()}};
  for (int i = 0; i < n; ++i)
    j["ports"].push_back({{"name", "v" + std::to_string(i)}, {"network", "n"}});
  if (extra) j["ports"].push_back({{"name", "x"}, {"network", "other"}});
  return j;
}

template <typename Pred>
bool wait_until(Pred p, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::yield();
  }
  return p();
}

uint16_t thread_of(test::MemSwitch& sw, const std::string& port) {
  auto snap = sw.slot.get();
  for (const auto& pe : snap->ports)
    if (pe.port && pe.port->name() == port) return pe.thread;
  ADD_FAILURE() << port << " not in the snapshot";
  return 0xffff;
}

TEST(Datapath, DefaultThreadCountLeavesMostCpusToVms) {
  EXPECT_EQ(default_thread_count(0), 1u);
  EXPECT_EQ(default_thread_count(2), 1u);
  EXPECT_EQ(default_thread_count(8), 2u);
  EXPECT_EQ(default_thread_count(32), 8u);
  EXPECT_EQ(default_thread_count(256), kMaxDefaultThreads);
}

TEST(Datapath, PortsAreSpreadEvenlyAndKeepTheirThread) {
  test::MemSwitch sw({}, 3);
  ASSERT_TRUE(sw.apply_json(vifs(6)));
  int per[3] = {};
  for (int i = 0; i < 6; ++i) ++per[thread_of(sw, "v" + std::to_string(i))];
  EXPECT_EQ(per[0], 2);
  EXPECT_EQ(per[1], 2);
  EXPECT_EQ(per[2], 2);
  const uint16_t v5 = thread_of(sw, "v5");
  // v1 leaves: the next new port goes to the thread it left; the others stay where they were.
  const uint16_t v1 = thread_of(sw, "v1");
  auto j = vifs(6);
  j["ports"].erase(1);
  ASSERT_TRUE(sw.apply_json(j));
  j["ports"].push_back({{"name", "w"}, {"network", "n"}});
  ASSERT_TRUE(sw.apply_json(j));
  EXPECT_EQ(thread_of(sw, "w"), v1);
  EXPECT_EQ(thread_of(sw, "v5"), v5);
}

TEST(Datapath, AMacLearnedOnOneThreadSteersTheOthers) {
  test::MemSwitch sw({}, 2);
  ASSERT_TRUE(sw.apply_json(vifs(4)));
  ASSERT_NE(thread_of(sw, "v0"), thread_of(sw, "v1"));
  // v1 speaks (its thread learns it; the flood is sent by that thread on every other port).
  sw.port("v1").inject(frame("ff:ff:ff:ff:ff:ff", kMac[1]));
  sw.step();
  for (const char* p : {"v0", "v2", "v3"}) EXPECT_EQ(sw.port(p).take_sent().size(), 1u) << p;
  // v0's thread now sends to v1 alone.
  sw.port("v0").inject(frame(kMac[1], kMac[0]));
  sw.step();
  EXPECT_EQ(sw.port("v1").take_sent().size(), 1u);
  EXPECT_EQ(sw.port("v2").take_sent().size(), 0u);
  EXPECT_EQ(sw.port("v3").take_sent().size(), 0u);
  const auto t = sw.dp.totals();
  EXPECT_EQ(t.flooded, 1u);
  EXPECT_EQ(t.forwarded, 1u);
  EXPECT_EQ(t.learned, 2u);
  EXPECT_EQ(sw.dp.fdb().size(), 2u);
}

TEST(Datapath, ABondIsReceivedByItsOwnerAndSentToByEveryThread) {
  test::MemSwitch sw({}, 2);
  nlohmann::json j = {{"networks", {{{"name", "n"}}}},
                      {"ports",
                       {{{"name", "bond0"},
                         {"type", "bond"},
                         {"network", "n"},
                         {"members", {"eth0", "eth1"}},
                         {"mode", "active-backup"}},
                        {{"name", "v1"}, {"network", "n"}},
                        {{"name", "v2"}, {"network", "n"}}}}};
  ASSERT_TRUE(sw.apply_json(j));
  ASSERT_NE(thread_of(sw, "v1"), thread_of(sw, "v2"));
  sw.dp.poll_once(0);  // the bond's owner ticks it: a member becomes active
  for (auto& [n, p] : sw.ports) p->take_sent();
  // A station behind the bond, then both VIFs (one per thread) send to it.
  sw.port("eth0").inject(frame("ff:ff:ff:ff:ff:ff", "52:54:00:00:00:09"));
  sw.step();
  sw.port("v1").take_sent();
  sw.port("v2").take_sent();
  for (int i = 0; i < 10; ++i) {
    sw.port("v1").inject(frame("52:54:00:00:00:09", kMac[1]));
    sw.port("v2").inject(frame("52:54:00:00:00:09", kMac[2]));
  }
  sw.step();
  EXPECT_EQ(sw.port("eth0").take_sent().size(), 20u);
  EXPECT_EQ(sw.port("eth1").take_sent().size(), 0u);
}

// Four VMs on two running threads exchange unicast frames both ways while the configuration
// changes under them: every frame arrives exactly once, and no learned MAC is lost.
TEST(Datapath, RunningThreadsDeliverEveryFrameOnceWhileTheConfigurationChanges) {
  WorkerOptions opt;
  opt.poll_mode = PollMode::kBusyPoll;
  test::MemSwitch sw(opt, 2);
  ASSERT_TRUE(sw.apply_json(vifs(4)));
  for (int i = 0; i < 4; ++i)
    sw.port("v" + std::to_string(i)).inject(frame("ff:ff:ff:ff:ff:ff", kMac[i]));
  sw.step();
  for (auto& [n, p] : sw.ports) p->take_sent();
  ASSERT_EQ(sw.dp.fdb().size(), 4u);
  sw.dp.start();

  constexpr int kFrames = 3000;  // per sender
  std::atomic<bool> go{false};
  std::vector<std::thread> senders;
  for (int i = 0; i < 4; ++i) {
    senders.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      auto& port = sw.port("v" + std::to_string(i));
      for (int k = 0; k < kFrames; ++k) port.inject(frame(kMac[i ^ 1], kMac[i]));  // 0<->1, 2<->3
    });
  }
  go = true;
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(sw.apply_json(vifs(4, k % 2 == 0)));
  for (auto& t : senders) t.join();
  size_t got[4] = {};
  EXPECT_TRUE(wait_until([&] {
    bool all = true;
    for (int i = 0; i < 4; ++i) {
      got[i] += sw.port("v" + std::to_string(i)).take_sent().size();
      all &= got[i] >= size_t(kFrames);
    }
    return all;
  }));
  sw.dp.stop();
  for (int i = 0; i < 4; ++i) {
    got[i] += sw.port("v" + std::to_string(i)).take_sent().size();
    EXPECT_EQ(got[i], size_t(kFrames)) << "v" << i;
  }
  const auto t = sw.dp.totals();
  EXPECT_EQ(t.flooded, 4u);  // only the four first frames: nothing learned was forgotten
  EXPECT_EQ(t.forwarded, 4u * kFrames);
}

// The shared table under concurrent learners, readers and a flusher: a lookup answers the port a
// MAC was learned on, or nothing -- never another port.
TEST(MacTableConcurrency, LookupsNeverReturnAWrongPort) {
  MacTable t(4096, 300);
  t.reserve_lports(8);
  constexpr uint64_t kMacs = 6000;  // more than the capacity: evictions too
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> wrong{0}, hits{0};
  auto port_of = [](uint64_t m) { return LportId(m % 8); };
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      uint64_t m = uint64_t(w) * 977;
      while (!stop.load(std::memory_order_relaxed)) {
        m = (m + 7919) % kMacs;
        t.learn(0, m, port_of(m), 1);
        const LportId got = t.lookup(0, (m * 31) % kMacs, 1);
        if (got != kNoLport) {
          hits.fetch_add(1, std::memory_order_relaxed);
          if (got != port_of((m * 31) % kMacs)) wrong.fetch_add(1);
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int k = 0; !stop.load(std::memory_order_relaxed); ++k) {
      t.flush_lport(LportId(k % 8));
      std::this_thread::yield();
    }
  });
  EXPECT_TRUE(wait_until([&] { return hits.load() > 200000; }, std::chrono::seconds(20)));
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_LE(t.size(), t.capacity());
}

}  // namespace
}  // namespace hvnet
