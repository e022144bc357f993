#include "control/manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "control/reconciler.h"

namespace hvnet {

Manager::Manager(store::Store& store, SwitchController* ctl, NicScanner scanner,
                 uint32_t mac_ageing_s, uint16_t vxlan_port)
    : store_(&store),
      ctl_(ctl),
      reconciler_(mac_ageing_s, vxlan_port),
      scanner_(std::move(scanner)) {}

Status Manager::reconcile_all() {
  if (!ctl_) return ok_status();
  model::Txn view(db_, /*track_reads=*/false);
  const TopologySpec spec = reconciler_.rebuild(view);
  if (!ctl_->apply(spec)) {
    // A device that vanished while we were down must not keep the rest of the host offline:
    // bring up what can be brought up and leave the rest unplugged in the data plane. The items
    // left out are forgotten, so the next change touching them (a PIF unplug and plug) retries.
    TopologySpec usable = spec;
    usable.ports.clear();
    for (const auto& p : spec.ports) {
      usable.ports.push_back(p);
      if (!ctl_->apply(usable)) usable.ports.pop_back();
    }
    if (auto u = ctl_->apply(usable); !u) return u;
    reconciler_.keep_only(ctl_->topology());
  }
  if (addressing_)
    if (auto st = addressing_->apply(host_config_from_model(view)); !st) return st;
  // A NIC that refuses its VFs now (another driver, firmware) must not keep the switch down.
  if (sriov_)
    if (auto st = sriov_->apply(sriov_config_from_model(view)); !st)
      spdlog::error("SR-IOV not fully applied: {}", st.error().to_string());
  return routed_ ? routed_->apply(routed_config_from_model(view)) : ok_status();
}

Status Manager::apply_commit(const store::Commit& c, const Reconciler::Before& before,
                             bool* touched_host) {
  bool host = false, addressed = false, routed = false;
  for (const auto& ch : c.changes) {
    auto b = before.find(ch.uuid);
    const model::Object* was = b != before.end() && b->second ? &*b->second : nullptr;
    host |= changes_host(ch, was);
    addressed |= changes_addressing(ch, was);
  }
  if (touched_host) *touched_host = host;
  if (!host || !ctl_) return ok_status();
  model::Txn view(db_, /*track_reads=*/false);
  // The VFs first: a refused VF (the NIC says no) refuses the write before the switch moves.
  if (sriov_) {
    SriovScope scope = SriovScope::kNone;
    std::vector<std::string> vifs;
    for (const auto& ch : c.changes) {
      auto b = before.find(ch.uuid);
      const SriovScope s =
          changes_sriov(ch, b != before.end() && b->second ? &*b->second : nullptr, view);
      if (s == SriovScope::kVif) vifs.push_back(ch.uuid);
      scope = std::max(scope, s);
    }
    if (scope != SriovScope::kNone) {
      const SriovConfig next = scope == SriovScope::kAll
                                   ? sriov_config_from_model(view)
                                   : sriov_config_after(view, sriov_->applied(), vifs);
      if (auto st = sriov_->apply(next); !st) return st;
    }
  }
  auto plan = reconciler_.plan(view, c.changes, before);
  if (auto st = ctl_->apply(plan.delta); !st) return st;
  reconciler_.adopt(std::move(plan));
  if (addressing_ && addressed)
    if (auto st = addressing_->apply(host_config_from_model(view)); !st) return st;
  for (const auto& ch : c.changes) {
    if (!routed_ || routed) break;
    auto b = before.find(ch.uuid);
    routed = changes_routing(ch, b != before.end() && b->second ? &*b->second : nullptr, view);
  }
  return routed ? routed_->apply(routed_config_from_model(view)) : ok_status();
}

Manager::~Manager() {
  {
    std::lock_guard lk(guard_mu_);
    ++guard_generation_;
  }
  guard_cv_.notify_all();
  if (guard_.joinable()) guard_.join();
}

void Manager::set_host_addressing(HostAddressing* addressing, uint32_t confirm_timeout_s) {
  addressing_ = addressing;
  confirm_timeout_s_ = confirm_timeout_s;
}

void Manager::confirm_management() {
  {
    std::lock_guard lk(guard_mu_);
    ++guard_generation_;
  }
  guard_cv_.notify_all();
}

namespace {

struct MgmtView {
  std::string pif, mode, ip, netmask, gateway, ifname;
  bool operator==(const MgmtView&) const = default;
};

MgmtView management_of(const model::Txn& t) {
  for (const auto& pif : t.where("PIF", "host", model::local_host(t))) {
    const auto& r = t.get(pif)->rec;
    if (!r["management"].get<bool>()) continue;
    const model::Object* n = t.get(r["network"], "network");
    return MgmtView{pif,          r["ip_configuration_mode"],
                    r["IP"],      r["netmask"],
                    r["gateway"], n ? n->rec["bridge"].get<std::string>() : ""};
  }
  return {};
}

bool gateway_answers(const std::string& ifname, const std::string& gateway) {
  std::string cmd = "ping -n -q -c 1 -W 1 -I '" + ifname + "' '" + gateway + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

void Manager::arm_guard(std::map<std::string, model::Object> before, std::string ifname,
                        std::string gateway) {
  uint64_t gen;
  {
    std::lock_guard lk(guard_mu_);
    gen = ++guard_generation_;
  }
  guard_cv_.notify_all();
  if (guard_.joinable()) guard_.join();
  guard_pending_ = true;
  guard_ = std::thread([this, gen, before = std::move(before), ifname, gateway] {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(confirm_timeout_s_);
    for (;;) {
      if (gateway_answers(ifname, gateway)) break;  // connectivity proven: keep the change
      std::unique_lock lk(guard_mu_);
      if (guard_generation_ != gen) break;  // confirmed by the administrator, or superseded
      if (guard_cv_.wait_until(
              lk,
              std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500)),
              [&] { return guard_generation_ != gen; }))
        break;
      if (std::chrono::steady_clock::now() >= deadline) {
        lk.unlock();
        spdlog::warn("management interface unreachable (gateway {} via {}): rolling back", gateway,
                     ifname);
        auto r = write_impl(
            [&](model::Txn& t) -> Result<model::json> {
              for (const auto& [uuid, obj] : before)
                if (t.get(uuid)) t.put(uuid, obj);
              return model::json("");
            },
            /*guard=*/false);
        if (!r) spdlog::error("management rollback failed: {}", r.error().to_string());
        break;
      }
    }
    guard_pending_ = false;
  });
}

Status Manager::start(const std::string& hostname, const std::string& local_host) {
  std::lock_guard lk(mu_);
  return start_locked(hostname, local_host, nullptr);
}

Status Manager::start_locked(const std::string& hostname, const std::string& local_host,
                             const Seed& seed) {
  db_ = model::Database();
  db_.set_local_host(local_host);
  if (auto st = store_->load(db_); !st) return st;
  model::Txn t(db_);
  std::string host = model::local_host(t);
  if (host.empty() || !t.get(host, "host")) {
    if (!local_host.empty())
      return make_error("HOST_UNKNOWN_TO_POOL", {local_host, "the pool's store has no such host"});
    host = model::ensure_host(t, hostname);
    if (auto r = model::pif_scan(t, host, scanner_()); !r) return r.error();
    if (seed)
      if (auto st = seed(t, host); !st) return st;
  }
  model::ensure_pool(t, host);
  model::refresh_host_identity(t, host);
  if (!t.empty()) {
    if (auto c = commit_and_fold(t, nullptr); !c) return c.error();
  }
  db_.set_local_host(host);
  return reconcile_all();
}

Status Manager::rebase(std::unique_ptr<store::Store> next, const std::string& hostname,
                       const std::string& local_host, const Seed& seed) {
  std::lock_guard lk(mu_);
  store::Store* prev = store_;
  model::Database prev_db = db_;
  store_ = next.get();
  if (auto st = start_locked(hostname, local_host, seed); !st) {
    store_ = prev;
    db_ = std::move(prev_db);
    (void)reconcile_all();
    return st;
  }
  owned_ = std::move(next);  // (the previous owned store, if any, goes now)
  return ok_status();
}

Result<model::json> Manager::write(const std::function<Result<model::json>(model::Txn&)>& op) {
  return write_impl(op, /*guard=*/true);
}

Result<store::Commit> Manager::commit_and_fold(const model::Txn& t, Reconciler::Before* before) {
  auto c = store_->commit(t.changes(), t.reads());
  if (!c) return c;
  fold(c.value(), before);
  return c;
}

void Manager::fold(const store::Commit& c, Reconciler::Before* before) {
  for (const auto& ch : c.changes) {
    if (before) {
      const model::Object* o = db_.get(ch.uuid);
      (*before)[ch.uuid] = o ? std::optional<model::Object>(*o) : std::nullopt;
    }
    if (ch.op == store::Op::kDel)
      db_.erase(ch.uuid);
    else
      db_.put(ch.uuid, model::Object{ch.cls, ch.record, ch.revision ? ch.revision : c.generation});
  }
  if (!c.changes.empty()) db_.set_generation(std::max(db_.generation(), c.generation));
  for (const auto& [id, l] : listeners_) {
    try {
      l(c);
    } catch (const std::exception& e) {  // a listener's fault is its own
      spdlog::error("change listener failed: {}", e.what());
    }
  }
}

Status Manager::catch_up_locked() {
  auto since = store_->changes_since(db_.generation());
  if (!since) return since.error();
  if (!since.value()) return make_error("INTERNAL_ERROR", {"store history lost: restart hvnetd"});
  store::Commit c;
  for (auto& ch : *since.value()) {
    // An object this host never saw that is gone again is no change to it; an object it has
    // is modified, whatever the store calls it relative to the generation.
    const model::Object* have = db_.get(ch.uuid);
    if (ch.op == store::Op::kDel && !have) continue;
    if (ch.op != store::Op::kDel) ch.op = have ? store::Op::kMod : store::Op::kAdd;
    if (have) ch.before = have->rec;
    c.generation = std::max(c.generation, ch.revision);
    c.changes.push_back(std::move(ch));
  }
  if (c.changes.empty()) return ok_status();
  Reconciler::Before before;
  fold(c, &before);
  if (auto st = apply_commit(c, before); !st) {
    // Another host's write: not this host's to undo. The data plane keeps what it could apply.
    spdlog::warn("changes from the pool not fully applied here: {}", st.error().to_string());
  }
  return ok_status();
}

namespace {
// Stages on `t` the objects a write replaced (erasing those it created): the state before it.
void stage_replaced(model::Txn& t, const Reconciler::Before& before) {
  for (const auto& [uuid, obj] : before) {
    if (obj)
      t.put(uuid, *obj);
    else
      t.erase(uuid);
  }
}
}  // namespace

Result<model::json> Manager::write_impl(const std::function<Result<model::json>(model::Txn&)>& op,
                                        bool guard) {
  std::unique_lock lk(mu_);
  // Whatever an operation, the store or this host's apply throws is contained: the objects stay
  // (or are put back) as committed, the data plane follows them, and the caller gets the error.
  auto contained = [&](auto&& step) -> Status {
    try {
      return step();
    } catch (const std::exception& e) {
      spdlog::error("write failed: {}", e.what());
      return make_error("INTERNAL_ERROR", {e.what()});
    }
  };
  Result<model::json> r = model::json();
  std::optional<model::Txn> t;
  store::Commit commit;
  Reconciler::Before before;
  // Run the operation and commit what it staged; a conflicting commit elsewhere (another host of
  // the pool) makes it run again on the objects as they are now.
  // On a shared store, the write starts from what the pool has committed (read your writes
  // through any member: a network made through one host is there for the next call on another).
  if (store_->shared())
    if (auto st = contained([&] { return catch_up_locked(); }); !st) return st.error();
  for (int attempt = 0;; ++attempt) {
    t.emplace(db_);
    if (auto st = contained([&]() -> Status {
          r = op(*t);
          return ok_status();
        });
        !st)
      return st.error();
    if (!r || t->empty()) return r;
    Result<store::Commit> c = store::Commit{};
    if (auto st = contained([&]() -> Status {
          c = commit_and_fold(*t, &before);
          return ok_status();
        });
        !st)
      return st.error();
    if (c) {
      commit = std::move(c.value());
      break;
    }
    if (c.error().code != store::kStoreConflict || attempt >= 16) return c.error();
    // Another writer got there first: after a random pause that grows with the attempts (two
    // hosts retrying in step would collide again and again), take in what it wrote and run the
    // operation again at once (a pause between the two would leave the other writer time to
    // move the objects again).
    thread_local std::minstd_rand jitter{std::random_device{}()};
    const unsigned cap_us = 1000u << std::min(attempt, 5);
    std::this_thread::sleep_for(std::chrono::microseconds(jitter() % cap_us));
    if (auto st = contained([&] { return catch_up_locked(); }); !st) return st.error();
  }
  if (commit.changes.empty()) return r;
  // Apply to this host, unless nothing it uses changed (names, descriptions, tags…).
  bool applies = false;
  if (auto st = contained([&]() -> Status { return apply_commit(commit, before, &applies); });
      !st) {
    // Undo: a compensating commit puts back what the write replaced, and the data plane with it.
    spdlog::warn("write not applied on this host ({}): reverting it", st.error().to_string());
    model::Txn undo(db_);
    stage_replaced(undo, before);
    auto u = contained([&]() -> Status {
      Reconciler::Before undone;
      auto c = commit_and_fold(undo, &undone);
      if (!c) return c.error();
      return apply_commit(c.value(), undone);
    });
    if (!u) spdlog::error("revert incomplete: {}", u.error().to_string());
    return st.error();
  }
  // The management safety net: remember what a management change replaced.
  std::map<std::string, model::Object> mgmt_before;
  bool pif_changed = false;
  for (const auto& ch : commit.changes) pif_changed |= ch.cls == "PIF" || ch.cls == "network";
  if (guard && addressing_ && applies && pif_changed) {
    model::Txn was_view(db_), now_view(db_);
    stage_replaced(was_view, before);
    const MgmtView was = management_of(was_view), now = management_of(now_view);
    if (!(was == now) && !was.pif.empty() && !now.gateway.empty()) {
      for (const auto& [uuid, obj] : before)
        if (obj && obj->cls == "PIF") mgmt_before[uuid] = *obj;
      lk.unlock();
      arm_guard(std::move(mgmt_before), now.ifname, now.gateway);
    }
  }
  return r;
}

}  // namespace hvnet
