#include "dataplane/datapath.h"

#include <algorithm>

namespace hvnet {

unsigned default_thread_count(unsigned cpus) noexcept {
  return std::clamp(cpus / 4, 1u, kMaxDefaultThreads);
}

Datapath::Datapath(SnapshotSlot& slot, DatapathOptions opt) : fdb_(opt.worker.mac_capacity, 300) {
  const uint32_t n = std::max<uint32_t>(1, opt.threads);
  for (uint32_t i = 0; i < n; ++i)
    workers_.push_back(std::make_unique<Worker>(slot, opt.worker, fdb_, i, n));
}

Datapath::~Datapath() {
  stop();
}

void Datapath::start() {
  for (auto& w : workers_) w->start();
}

void Datapath::stop() {
  for (auto& w : workers_) w->stop();
}

bool Datapath::sync() {
  bool all = true;
  for (auto& w : workers_) all &= w->sync();
  return all;
}

void Datapath::wake() noexcept {
  for (auto& w : workers_) w->wake();
}

bool Datapath::poll_once(int timeout_ms) {
  bool worked = false;
  for (auto& w : workers_) worked |= w->poll_once(timeout_ms);
  return worked;
}

bool Datapath::run_on_each(const std::function<void(Worker&)>& fn) {
  bool all = true;
  for (auto& w : workers_) {
    Worker& mine = *w;
    all &= mine.run_on_worker([&] { fn(mine); });
  }
  return all;
}

void Datapath::set_clock(const std::function<uint32_t()>& clock) {
  for (auto& w : workers_) w->set_clock(clock);
}

void Datapath::set_clock_ms(const std::function<uint64_t()>& clock) {
  for (auto& w : workers_) w->set_clock_ms(clock);
}

uint64_t Datapath::dropped(DropReason r) const noexcept {
  return totals().drops[size_t(r)];
}

Datapath::Totals Datapath::totals() const noexcept {
  Totals t;
  for (const auto& w : workers_) {
    const DataplaneStats& d = w->stats();
    for (size_t r = 0; r < t.drops.size(); ++r) t.drops[r] += d.drops[r].load();
    t.forwarded += d.forwarded.load();
    t.flooded += d.flooded.load();
    t.learned += d.learned.load();
    t.mac_moves += d.mac_moves.load();
    t.mac_evictions += d.mac_evictions.load();
    t.mac_expired += d.mac_expired.load();
  }
  return t;
}

}  // namespace hvnet
