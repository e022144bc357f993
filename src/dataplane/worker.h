// Worker: a forwarding thread. It owns a PacketPool and a Pipeline, reads the current Snapshot
// (adopting a new one between batches), receives from the ports the snapshot gives it
// (PortEntry::thread), waits on their fds with epoll when idle (adaptive mode: poll while busy,
// sleep when not) and runs control requests between batches. It transmits on any port (under that
// port's tx lock, once per batch) and learns into the MacTable it shares with the other workers
// of its Datapath (or one of its own).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dataplane/bond_port.h"
#include "dataplane/dataplane_stats.h"
#include "dataplane/mac_table.h"
#include "dataplane/pipeline.h"
#include "dataplane/snapshot.h"
#include "packet/packet_pool.h"

namespace hvnet {

// How a forwarding thread waits for work.
//  kAdaptive (default): poll while traffic flows, keep polling for spin_us after the last frame,
//                       then sleep on the ports' fds (a 2-core host keeps a core for its VMs);
//  kBusyPoll: never sleep (lowest latency, one core at 100%);
//  kInterrupt: sleep on the fds whenever a pass found nothing.
enum class PollMode : uint8_t { kAdaptive, kBusyPoll, kInterrupt };
const char* poll_mode_name(PollMode m) noexcept;
// The mode a host gets unless told otherwise: busy polling once one core for the switch is a
// small share of the machine (kBusyPollMinCpus or more), adaptive below, where a spinning
// thread would take a core from the VMs. `cpus` 0 (unknown) counts as small.
inline constexpr unsigned kBusyPollMinCpus = 8;
PollMode default_poll_mode(unsigned cpus) noexcept;

struct WorkerOptions {
  uint32_t pool_packets = 512;
  uint32_t mac_capacity = 8192;
  uint32_t idle_sleep_ms = 100;  // longest sleep when no port has work
  PollMode poll_mode = PollMode::kAdaptive;
  uint32_t spin_us = 100;  // adaptive: how long to keep polling after the last frame
};

// (Aligned: workers written by different threads share no cache line.)
class alignas(64) Worker {
 public:
  // A worker alone, with a MAC table of its own.
  Worker(SnapshotSlot& slot, WorkerOptions opt);
  // Worker `index` of `count`, learning into `fdb` (shared; outlives the worker). Worker 0 also
  // ages the table out.
  Worker(SnapshotSlot& slot, WorkerOptions opt, MacTable& fdb, uint32_t index, uint32_t count);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void stop();

  // Runs `fn` on the forwarding thread between two batches and waits for it (up to 2 s). Returns
  // false on timeout. Without a running thread, runs it on the caller's thread.
  bool run_on_worker(const std::function<void()>& fn);
  // Wakes the thread so it adopts a newly published snapshot now; waits until it did (<= 2 s).
  bool sync();
  // Makes the thread run an iteration now (e.g. a carrier changed). Any thread.
  void wake() noexcept;
  // Milliseconds on the worker's clock (monotonic, or injected for tests).
  uint64_t now_ms() const noexcept;
  void set_clock_ms(std::function<uint64_t()> clock) { clock_ms_ = std::move(clock); }
  // One loop iteration: adopt a new snapshot if any, receive and forward. For tests.
  bool poll_once(int timeout_ms);

  DataplaneStats& stats() noexcept { return stats_; }
  const DataplaneStats& stats() const noexcept { return stats_; }
  MacTable& fdb() noexcept { return fdb_; }
  // The last drops of this worker: read on its thread (run_on_worker).
  const DropTrace& drop_trace() const noexcept { return trace_; }
  uint64_t adopted_generation() const noexcept { return adopted_.load(); }
  // Seconds on the worker's clock (monotonic, or injected for tests).
  uint32_t now_s() const noexcept;
  void set_clock(std::function<uint32_t()> clock) { clock_ = std::move(clock); }

 private:
  void loop();
  void adopt(std::shared_ptr<const Snapshot> next);
  void run_commands();
  void answer_learning_requests();
  bool owns(const PortEntry& pe) const noexcept { return pe.thread % count_ == index_; }

  SnapshotSlot& slot_;
  WorkerOptions opt_;
  uint32_t index_ = 0, count_ = 1;
  PacketPool pool_;
  DataplaneStats stats_;
  DropTrace trace_;
  std::unique_ptr<MacTable> own_fdb_;  // a worker alone
  MacTable& fdb_;
  Pipeline pipeline_;
  std::shared_ptr<const Snapshot> snap_;
  std::atomic<uint64_t> adopted_{0};
  std::function<uint32_t()> clock_;
  std::function<uint64_t()> clock_ms_;
  uint32_t last_expiry_s_ = 0;

  int epfd_ = -1;
  int wakefd_ = -1;
  std::vector<const Port*> polled_;  // per PortId: the Port registered with epoll, if any
  std::vector<PortId> fdless_;       // ports without an fd: polled every iteration
  std::vector<PortId> ring_polled_;  // ports read straight from memory while spinning (AF_XDP)
  size_t fd_polled_ = 0;             // epoll-registered ports that only epoll can see
  // Ring ports leave the epoll set while the thread spins: a registered waiter makes the kernel
  // take the epoll lock on every wake-up of the socket (one per transmitted frame, as each
  // completion frees write space), which a spinning thread does not need.
  bool rings_in_epoll_ = true;
  void rings_in_epoll(bool in) noexcept;
  std::vector<uint8_t> busy_;      // per PortId: the last burst was full, poll again
  std::vector<Port*> tick_ports_;  // ports with timers (bonds)
  // Transmit rate limits of VIFs: a token bucket per port (rate/burst come from the snapshot).
  // Out of tokens, the port is not read (its fd leaves epoll) until the bucket refills, so the
  // VM feels backpressure rather than drops and TCP settles at the limit.
  // With a peak rate (a network's traffic shaping), a second bucket of 10 ms at that rate caps
  // how fast the burst is spent.
  struct Throttle {
    int64_t tokens = 0;
    int64_t peak_tokens = 0;
    uint64_t last_ns = 0;
    uint64_t resume_ns = 0;
    bool paused = false;
  };
  std::vector<Throttle> throttle_;
  std::vector<PortId> qos_ports_;
  uint64_t now_ns() const noexcept;
  uint32_t qos_budget(PortId id, uint64_t now) noexcept;
  void qos_charge(PortId id, uint64_t bytes) noexcept;
  int qos_resume(uint64_t now) noexcept;        // re-arms refilled ports; ms until the next one
  void arm(PortId id, bool readable) noexcept;  // epoll interest in a polled port's fd
  std::vector<std::pair<PortId, BondPort*>> bonds_;

  std::mutex cmd_mu_;
  std::vector<std::packaged_task<void()>> cmds_;
  std::atomic<bool> has_cmds_{false};

  std::atomic<bool> running_{false};
  std::thread thread_;
  pid_t tid_ = 0;
};

}  // namespace hvnet
