// The forwarding thread keeps unrelated traffic flowing while the configuration changes under it.
#include "dataplane/worker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "../frames.h"
#include "../mem_switch.h"

namespace hvnet {
namespace {

using test::frame;

nlohmann::json base(bool with_extra) {
  nlohmann::json j = {
      {"networks", {{{"name", "net0"}}, {{"name", "other"}}}},
      {"ports", {{{"name", "a"}, {"network", "net0"}}, {{"name", "b"}, {"network", "net0"}}}}};
  if (with_extra) {
    j["ports"].push_back({{"name", "c"}, {"network", "net0"}});
    j["ports"].push_back({{"name", "d"}, {"network", "other"}});
  }
  return j;
}

template <typename Pred>
bool wait_until(Pred p, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::yield();
  }
  return p();
}

TEST(Worker, ReconfigurationDoesNotDropTrafficOnUnrelatedPorts) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(base(false)));
  sw.worker.start();
  auto& a = sw.port("a");
  auto& b = sw.port("b");
  b.inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:02"));
  ASSERT_TRUE(wait_until([&] { return a.take_sent().size() == 1; }));

  constexpr int kFrames = 4000;
  size_t received = 0;
  for (int i = 0; i < kFrames; ++i) {
    a.inject(frame("00:16:3e:00:00:02", "00:16:3e:00:00:01"));
    if (i % 200 == 0) {
      ASSERT_TRUE(sw.apply_json(base(i % 400 == 0)));  // add/remove c and d
    }
    received += b.take_sent().size();
  }
  ASSERT_TRUE(wait_until([&] {
    received += b.take_sent().size();
    return received >= kFrames;
  }));
  sw.worker.stop();
  EXPECT_EQ(received, size_t(kFrames));
  EXPECT_EQ(sw.worker.stats().flooded.load(), 1u);  // the learned entry survived every swap
}

TEST(Worker, RemovedPortForgetsItsMacs) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(base(true)));
  sw.port("c").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:03"));
  sw.step();
  EXPECT_EQ(sw.worker.fdb().size(), 1u);
  ASSERT_TRUE(sw.apply_json(base(false)));
  EXPECT_EQ(sw.worker.fdb().size(), 0u);
}

TEST(Worker, EveryPollModeForwards) {
  for (PollMode mode : {PollMode::kAdaptive, PollMode::kBusyPoll, PollMode::kInterrupt}) {
    WorkerOptions opt;
    opt.poll_mode = mode;
    opt.idle_sleep_ms = 5;
    test::MemSwitch sw(opt);
    ASSERT_TRUE(sw.apply_json(base(false)));
    sw.worker.start();
    for (int i = 0; i < 100; ++i)
      sw.port("a").inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
    size_t got = 0;
    EXPECT_TRUE(wait_until([&] {
      got += sw.port("b").take_sent().size();
      return got == 100;
    })) << int(mode);
    sw.worker.stop();
  }
}

// AF_XDP-like ports are read straight from their rings while the thread spins: no epoll_wait
// per pass. Their fd here fires only when the test says so, so only that direct read can move
// the unsignalled frames.
TEST(Worker, SpinningThreadReadsRingPortsWithoutEpoll) {
  for (PollMode mode : {PollMode::kBusyPoll, PollMode::kAdaptive}) {
    WorkerOptions opt;
    opt.poll_mode = mode;
    opt.idle_sleep_ms = 5;
    opt.spin_us = 10000000;  // adaptive: once woken by a frame, spin for the rest of the test
    test::MemSwitch sw(opt);
    sw.ring_like = {"a", "b"};
    ASSERT_TRUE(sw.apply_json(base(false)));
    auto& a = sw.port("a");
    auto& b = sw.port("b");
    ASSERT_TRUE(a.rx_polls_memory());
    sw.worker.start();
    a.inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
    a.signal_rx();  // the one wake-up a sleeping thread gets
    ASSERT_TRUE(wait_until([&] { return b.take_sent().size() == 1; })) << int(mode);
    for (int i = 0; i < 100; ++i) a.inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
    size_t got = 0;
    EXPECT_TRUE(wait_until([&] {
      got += b.take_sent().size();
      return got == 100;
    })) << int(mode)
        << " forwarded " << got;
    sw.worker.stop();
  }
}

// After a spin, an adaptive thread goes back to sleep on the fds: ring ports must be back in its
// epoll set then, or a frame signalled later would wait forever.
TEST(Worker, RingPortsRejoinEpollBeforeTheThreadSleeps) {
  WorkerOptions opt;
  opt.poll_mode = PollMode::kAdaptive;
  opt.idle_sleep_ms = 5;
  opt.spin_us = 200;
  test::MemSwitch sw(opt);
  sw.ring_like = {"a", "b"};
  ASSERT_TRUE(sw.apply_json(base(false)));
  auto& a = sw.port("a");
  auto& b = sw.port("b");
  sw.worker.start();
  for (int round = 0; round < 3; ++round) {
    a.inject(frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
    a.signal_rx();
    EXPECT_TRUE(wait_until([&] { return b.take_sent().size() == 1; })) << "round " << round;
    // Let the 200 us spin window lapse (time passing, not waiting for a result): the thread is
    // asleep on its fds again when the next frame is signalled.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sw.worker.stop();
}

TEST(Worker, BusyPollingIsTheDefaultOnlyWhereACoreIsASmallShare) {
  EXPECT_EQ(default_poll_mode(0), PollMode::kAdaptive);  // unknown
  EXPECT_EQ(default_poll_mode(2), PollMode::kAdaptive);
  EXPECT_EQ(default_poll_mode(kBusyPollMinCpus - 1), PollMode::kAdaptive);
  EXPECT_EQ(default_poll_mode(kBusyPollMinCpus), PollMode::kBusyPoll);
  EXPECT_EQ(default_poll_mode(64), PollMode::kBusyPoll);
  EXPECT_STREQ(poll_mode_name(PollMode::kBusyPoll), "busy");
}

TEST(Worker, ControlRequestsRunOnTheForwardingThread) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(base(false)));
  sw.worker.start();
  std::thread::id ran_on;
  ASSERT_TRUE(sw.worker.run_on_worker([&] { ran_on = std::this_thread::get_id(); }));
  sw.worker.stop();
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace hvnet
