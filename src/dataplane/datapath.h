// Datapath: the forwarding threads of one switch. N Workers read one SnapshotSlot and learn into
// one MacTable (lock-free lookups and refreshes, see mac_table.h). Each port is received from by
// the one worker its snapshot entry names (PortEntry::thread, chosen by the control plane to
// spread ports evenly); any worker transmits on any port under that port's tx lock, taken once
// per batch. A flood is replicated by the worker that received the frame; a bond is received
// from and ticked by its owner and sent on by all. A published snapshot is adopted by every
// worker between two of its batches (each worker sees one whole snapshot per batch), and
// sync() returns once all of them run on it, so the control plane closes a port only when no
// thread can still reach it.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "dataplane/mac_table.h"
#include "dataplane/worker.h"

namespace hvnet {

// How many forwarding threads a host gets unless told: one per four CPUs, at least one and at
// most kMaxDefaultThreads -- the rest of the machine runs the VMs whose frames they forward (on
// this 2-CPU machine, one thread measured faster than two; see the README).
inline constexpr unsigned kMaxDefaultThreads = 8;
unsigned default_thread_count(unsigned cpus) noexcept;

struct DatapathOptions {
  uint32_t threads = 1;
  WorkerOptions worker;
};

class Datapath {
 public:
  Datapath(SnapshotSlot& slot, DatapathOptions opt);
  ~Datapath();
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  uint32_t threads() const noexcept { return uint32_t(workers_.size()); }
  Worker& worker(uint32_t i) noexcept { return *workers_[i]; }
  MacTable& fdb() noexcept { return fdb_; }

  void start();
  void stop();
  // Every worker runs on the slot's latest snapshot (waits up to 2 s each). Without threads,
  // polls each worker once.
  bool sync();
  // Wakes every worker (e.g. a carrier changed). Any thread.
  void wake() noexcept;
  // One iteration of every worker, in order (tests and benchmarks without threads). True if any
  // forwarded a frame.
  bool poll_once(int timeout_ms);
  // Runs `fn` on each forwarding thread between two of its batches.
  bool run_on_each(const std::function<void(Worker&)>& fn);

  uint32_t now_s() const noexcept { return workers_[0]->now_s(); }
  void set_clock(const std::function<uint32_t()>& clock);
  void set_clock_ms(const std::function<uint64_t()>& clock);

  // Switch-wide counters: the sum over the workers.
  uint64_t dropped(DropReason r) const noexcept;
  struct Totals {
    std::array<uint64_t, size_t(DropReason::kCount)> drops{};
    uint64_t forwarded = 0, flooded = 0, learned = 0, mac_moves = 0, mac_evictions = 0,
             mac_expired = 0;
  };
  Totals totals() const noexcept;

 private:
  MacTable fdb_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace hvnet
