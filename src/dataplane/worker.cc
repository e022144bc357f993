#include "dataplane/worker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <set>

namespace hvnet {

namespace {
uint32_t monotonic_seconds() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint32_t(ts.tv_sec);
}
constexpr auto kControlTimeout = std::chrono::seconds(2);
// Adds or changes (op) the epoll interest in `fd`, tagged with port `id`: readable, or parked
// (no events). Returns epoll_ctl's result.
int epoll_interest(int epfd, int op, int fd, uint32_t id, bool readable) noexcept {
  epoll_event ev{};
  ev.events = readable ? uint32_t(EPOLLIN) : 0u;
  ev.data.u32 = id;
  return epoll_ctl(epfd, op, fd, &ev);
}
}  // namespace

Worker::Worker(SnapshotSlot& slot, WorkerOptions opt)
    : Worker(slot, opt, *new MacTable(opt.mac_capacity, 300), 0, 1) {
  own_fdb_.reset(&fdb_);
}

Worker::Worker(SnapshotSlot& slot, WorkerOptions opt, MacTable& fdb, uint32_t index, uint32_t count)
    : slot_(slot),
      opt_(opt),
      index_(index),
      count_(count == 0 ? 1 : count),
      pool_(opt.pool_packets),
      fdb_(fdb),
      pipeline_(fdb_, stats_, trace_),
      snap_(std::make_shared<const Snapshot>()) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_interest(epfd_, EPOLL_CTL_ADD, wakefd_, kNoPort, true);
}

const char* poll_mode_name(PollMode m) noexcept {
  switch (m) {
    case PollMode::kAdaptive:
      return "adaptive";
    case PollMode::kBusyPoll:
      return "busy";
    case PollMode::kInterrupt:
      return "interrupt";
  }
  return "?";
}

PollMode default_poll_mode(unsigned cpus) noexcept {
  return cpus >= kBusyPollMinCpus ? PollMode::kBusyPoll : PollMode::kAdaptive;
}

Worker::~Worker() {
  stop();
  adopt(std::make_shared<const Snapshot>());  // unregister every fd before the ports may close
  close(wakefd_);
  close(epfd_);
}

uint32_t Worker::now_s() const noexcept {
  return clock_ ? clock_() : monotonic_seconds();
}

uint64_t Worker::now_ms() const noexcept {
  if (clock_ms_) return clock_ms_();
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

uint64_t Worker::now_ns() const noexcept {
  if (clock_ms_) return clock_ms_() * 1000000ULL;
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

uint32_t Worker::qos_budget(PortId id, uint64_t now) noexcept {
  const PortEntry& pe = snap_->ports[id];
  Throttle& t = throttle_[id];
  // The peak bucket holds 10 ms at the peak rate, and always one GSO frame.
  const int64_t peak_depth = int64_t(std::max<uint64_t>(pe.qos_peak / 100, 65536 + 1514));
  if (t.last_ns == 0) {
    t.last_ns = now;
    t.tokens = int64_t(pe.qos_burst);
    t.peak_tokens = peak_depth;
  }
  const uint64_t elapsed = now - t.last_ns;
  t.last_ns = now;
  t.tokens = std::min<int64_t>(int64_t(pe.qos_burst),
                               t.tokens + int64_t(elapsed * pe.qos_rate / 1000000000ULL));
  if (pe.qos_peak)
    t.peak_tokens = std::min<int64_t>(
        peak_depth, t.peak_tokens + int64_t(elapsed * pe.qos_peak / 1000000000ULL));
  const int64_t have = pe.qos_peak ? std::min(t.tokens, t.peak_tokens) : t.tokens;
  if (have > 0) return std::min<uint32_t>(kBatchSize, uint32_t(have / 1514) + 1);
  // Empty: stop reading this port until the debt is paid back (in both buckets).
  t.paused = true;
  auto repaid_at = [&](int64_t tokens, uint64_t rate) {
    return tokens > 0 ? now : now + uint64_t(-tokens + 1514) * 1000000000ULL / rate;
  };
  t.resume_ns = repaid_at(t.tokens, pe.qos_rate);
  if (pe.qos_peak)
    t.resume_ns = std::max<uint64_t>(t.resume_ns, repaid_at(t.peak_tokens, pe.qos_peak));
  arm(id, false);
  return 0;
}

void Worker::arm(PortId id, bool readable) noexcept {
  if (polled_[id]) epoll_interest(epfd_, EPOLL_CTL_MOD, polled_[id]->fd(), id, readable);
}

void Worker::rings_in_epoll(bool in) noexcept {
  if (rings_in_epoll_ == in) return;
  rings_in_epoll_ = in;
  for (PortId id : ring_polled_) {
    const int fd = polled_[id]->fd();
    if (in)
      epoll_interest(epfd_, EPOLL_CTL_ADD, fd, id,
                     !(id < throttle_.size() && throttle_[id].paused));
    else
      epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  }
}

void Worker::qos_charge(PortId id, uint64_t bytes) noexcept {
  throttle_[id].tokens -= int64_t(bytes);
  throttle_[id].peak_tokens -= int64_t(bytes);
}

int Worker::qos_resume(uint64_t now) noexcept {
  int64_t next_ms = -1;
  for (PortId id : qos_ports_) {
    Throttle& t = throttle_[id];
    if (!t.paused) continue;
    if (now >= t.resume_ns) {
      t.paused = false;
      arm(id, true);
      continue;
    }
    int64_t ms = int64_t((t.resume_ns - now + 999999) / 1000000);
    if (next_ms < 0 || ms < next_ms) next_ms = ms;
  }
  return int(next_ms);
}

void Worker::answer_learning_requests() {
  const Snapshot& s = *snap_;
  for (auto& [bond_id, bond] : bonds_) {
    if (!bond->take_learning_request()) continue;
    const PortId pid = bond_id;  // (a plain variable: lambdas below capture it)
    // Every VIF on a network the bond carries (a RARP, and a gratuitous ARP for each address it
    // is known by, even if the VM never sent) and every MAC learned on another of its ports is
    // announced out of the bond, tagged as the bond carries that network, so the physical switch
    // relearns at once.
    std::vector<uint16_t> tag_of(s.bridges.size(), 0xffff);
    for (const auto& le : s.lports)
      if (le.port == pid) tag_of[le.bridge] = le.tag;
    std::vector<BondPort::Announcement> out;
    std::set<std::pair<uint64_t, BridgeId>> seen;
    for (size_t q = 0; q < s.ports.size(); ++q) {
      const PortEntry& pe = s.ports[q];
      if (!pe.port || q == pid || !pe.vif_mac || pe.native_lport >= s.lports.size()) continue;
      const BridgeId b = s.lports[pe.native_lport].bridge;
      if (b >= tag_of.size() || tag_of[b] == 0xffff || !seen.emplace(pe.vif_mac, b).second)
        continue;
      out.push_back({pe.vif_mac, tag_of[b], 0});
      for (uint32_t a : pe.vif_ipv4) out.push_back({pe.vif_mac, tag_of[b], a});
    }
    fdb_.for_each(now_s(), [&](const MacTable::EntryView& e) {
      if (e.bridge >= tag_of.size() || tag_of[e.bridge] == 0xffff) return;
      if (e.lport >= s.lports.size() || s.lports[e.lport].port == pid) return;
      if (seen.emplace(e.mac, BridgeId(e.bridge)).second)
        out.push_back({e.mac, tag_of[e.bridge], 0});
    });
    bond->send_learning(out);
  }
}

void Worker::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { loop(); });
}

void Worker::stop() {
  if (!running_.exchange(false)) return;
  wake();
  thread_.join();
}

void Worker::wake() noexcept {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakefd_, &one, sizeof one);
}

bool Worker::run_on_worker(const std::function<void()>& fn) {
  if (!running_.load()) {
    fn();
    return true;
  }
  std::packaged_task<void()> task(fn);
  auto done = task.get_future();
  {
    std::lock_guard lk(cmd_mu_);
    cmds_.push_back(std::move(task));
    has_cmds_.store(true, std::memory_order_release);
  }
  wake();
  return done.wait_for(kControlTimeout) == std::future_status::ready;
}

bool Worker::sync() {
  uint64_t want = slot_.generation();
  if (!running_.load()) {
    poll_once(0);
    return adopted_.load() >= want;
  }
  return run_on_worker([] {}) && adopted_.load() >= want;
}

void Worker::run_commands() {
  std::vector<std::packaged_task<void()>> todo;
  {
    std::lock_guard lk(cmd_mu_);
    todo.swap(cmds_);
    has_cmds_.store(false, std::memory_order_relaxed);
  }
  for (auto& t : todo) t();
}

void Worker::adopt(std::shared_ptr<const Snapshot> next) {
  const Snapshot& old = *snap_;
  // Forget what was learned on logical ports that vanished or now mean something else.
  for (LportId lp = 0; lp < old.lports.size(); ++lp) {
    if (old.lports[lp].port == kNoPort) continue;
    const LportEntry& was = old.lports[lp];
    const bool same = lp < next->lports.size() && next->lports[lp] == was &&
                      next->ports[was.port].port == old.ports[was.port].port;
    if (!same) fdb_.flush_lport(lp);
  }
  // Re-register port fds with epoll where the port behind a PortId changed (from the state where
  // every polled port is registered).
  rings_in_epoll(true);
  polled_.resize(std::max(polled_.size(), next->ports.size()), nullptr);
  fdless_.clear();
  for (PortId id = 0; id < polled_.size(); ++id) {
    const Port* now =
        id < next->ports.size() && owns(next->ports[id]) ? next->ports[id].port.get() : nullptr;
    if (now && now->fd() < 0) fdless_.push_back(id);
    if (polled_[id] == now) continue;
    if (polled_[id]) epoll_ctl(epfd_, EPOLL_CTL_DEL, polled_[id]->fd(), nullptr);
    polled_[id] = nullptr;
    if (now && now->fd() >= 0 && epoll_interest(epfd_, EPOLL_CTL_ADD, now->fd(), id, true) == 0)
      polled_[id] = now;
  }
  busy_.assign(next->ports.size(), 0);
  ring_polled_.clear();
  fd_polled_ = 0;
  for (PortId id = 0; id < next->ports.size(); ++id) {
    const Port* p = polled_[id];
    if (!p) continue;
    if (p->rx_polls_memory())
      ring_polled_.push_back(id);
    else
      ++fd_polled_;
  }
  // Rate limits: keep a port's bucket across snapshots unless its rate changed.
  throttle_.resize(next->ports.size());
  qos_ports_.clear();
  for (PortId id = 0; id < next->ports.size(); ++id) {
    const bool was = id < old.ports.size() && old.ports[id].port == next->ports[id].port &&
                     old.ports[id].qos_rate == next->ports[id].qos_rate &&
                     old.ports[id].qos_burst == next->ports[id].qos_burst &&
                     old.ports[id].qos_peak == next->ports[id].qos_peak;
    if (!was) {
      if (throttle_[id].paused && polled_[id] == next->ports[id].port.get()) arm(id, true);
      throttle_[id] = Throttle{};
    }
    if (next->ports[id].port && next->ports[id].qos_rate > 0 && owns(next->ports[id]))
      qos_ports_.push_back(id);
  }
  tick_ports_.clear();
  bonds_.clear();
  for (PortId id = 0; id < next->ports.size(); ++id) {
    Port* p = next->ports[id].port.get();
    if (!p || !p->needs_tick() || !owns(next->ports[id])) continue;
    tick_ports_.push_back(p);
    if (auto* b = dynamic_cast<BondPort*>(p)) bonds_.emplace_back(id, b);
  }
  pipeline_.configure(*next);
  snap_ = std::move(next);  // the old snapshot (and ports only it held) is released here
  adopted_.store(snap_->generation, std::memory_order_release);
}

bool Worker::poll_once(int timeout_ms) {
  if (slot_.generation() != snap_->generation) adopt(slot_.get());
  if (has_cmds_.load(std::memory_order_acquire)) run_commands();

  const Snapshot& s = *snap_;
  const uint32_t now = now_s();
  if (index_ == 0 && now != last_expiry_s_) {
    last_expiry_s_ = now;
    DataplaneStats::bump(stats_.mac_expired, fdb_.expire(now));
  }

  if (!tick_ports_.empty()) {
    const uint64_t ms = now_ms();
    for (Port* p : tick_ports_) p->tick(ms);
    answer_learning_requests();
    if (timeout_ms > 20) timeout_ms = 20;  // timers (carrier delays, LACP) need a fine grain
  }

  const uint64_t now_nsec = qos_ports_.empty() ? 0 : now_ns();
  if (!qos_ports_.empty()) {
    int wait = qos_resume(now_nsec);
    if (wait >= 0 && wait < timeout_ms) timeout_ms = wait;
  }

  bool any_busy = false;
  for (uint8_t b : busy_) any_busy |= b != 0;
  if (any_busy || !fdless_.empty()) timeout_ms = 0;

  // Spinning over ports whose rings live in our memory needs no system call: they leave the
  // epoll set (so never come back as events below) and are read directly; epoll is asked only
  // when some port can be seen through it alone, or to sleep.
  const bool spin = timeout_ms == 0;
  epoll_event evs[64];
  rings_in_epoll(!spin);
  int n = spin && fd_polled_ == 0 ? 0 : epoll_wait(epfd_, evs, 64, timeout_ms);
  bool worked = false;
  PacketBatch batch;
  auto service = [&](PortId id) {
    const PortEntry& pe = s.ports[id];
    Port& port = *pe.port;
    batch.clear();
    batch.limit = kBatchSize;
    if (pe.qos_rate) {
      if (throttle_[id].paused) return;
      batch.limit = qos_budget(id, now_nsec);
      if (batch.limit == 0) return;
    }
    uint32_t got = port.rx_burst(pool_, batch);
    busy_[id] = got == batch.limit;
    if (got == 0 && pool_.available() == 0) stats_.drop(DropReason::kPoolExhausted);
    if (got == 0) return;
    worked = true;
    if (pe.qos_rate) {
      uint64_t bytes = 0;
      for (uint32_t i = 0; i < batch.count; ++i) bytes += batch[i]->len;
      qos_charge(id, bytes);
    }
    pipeline_.process(s, id, batch, pool_, now);
  };
  for (int i = 0; i < n; ++i) {
    PortId id = evs[i].data.u32;
    if (id == kNoPort) {
      uint64_t v;
      [[maybe_unused]] ssize_t r = read(wakefd_, &v, sizeof v);
      continue;
    }
    if (id < s.ports.size() && s.ports[id].port && !busy_[id]) service(id);
  }
  if (spin)
    for (PortId id : ring_polled_)
      if (!busy_[id]) service(id);
  for (PortId id = 0; id < busy_.size(); ++id)
    if (busy_[id] && polled_[id]) service(id);
  for (PortId id : fdless_) service(id);
  return worked;
}

void Worker::loop() {
  uint64_t last_work_ns = 0;
  while (running_.load(std::memory_order_relaxed)) {
    int timeout = int(opt_.idle_sleep_ms);
    switch (opt_.poll_mode) {
      case PollMode::kBusyPoll:
        timeout = 0;
        break;
      case PollMode::kAdaptive:
        if (now_ns() - last_work_ns < uint64_t(opt_.spin_us) * 1000) timeout = 0;
        break;
      case PollMode::kInterrupt:
        break;
    }
    if (poll_once(timeout)) last_work_ns = now_ns();
  }
}

}  // namespace hvnet
