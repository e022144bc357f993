// Manager: the network manager's single entry point for reads and writes of the object model.
// A write runs an operation on a Txn, commits it to the store (with the revisions it read: a
// conflicting write elsewhere makes it re-run on fresh objects), publishes the commit on the change
// feed, then applies it to this host (data plane and host addressing) when it changed anything
// they use. If this host cannot apply it, a compensating commit puts the objects back, the data
// plane returns to them, and the caller gets the error: nothing of the change remains (crash-safe
// through the store's transactions). Commit, then apply, because in a pool other hosts apply a
// write only after the shared store has committed it. Serialised by one mutex; the data plane
// never waits on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "control/host_addressing.h"
#include "control/reconciler.h"
#include "control/routed_networks.h"
#include "control/sriov_host.h"
#include "control/switch_controller.h"
#include "model/database.h"
#include "model/ops.h"
#include "store/store.h"

namespace hvnet {

class Manager {
 public:
  using NicScanner = std::function<std::vector<model::NicInfo>()>;
  Manager(store::Store& store, SwitchController* ctl, NicScanner scanner,
          uint32_t mac_ageing_s = 300, uint16_t vxlan_port = kVxlanDefaultPort);

  // Listeners of the change feed: called with every commit, in commit order, on the writer's
  // thread under the write lock (so keep them short: queue and return). Subscribe before start.
  using Listener = std::function<void(const store::Commit&)>;
  int subscribe(Listener l) {
    std::lock_guard lk(mu_);
    listeners_.emplace(++next_listener_, std::move(l));
    return next_listener_;
  }
  void unsubscribe(int id) {
    std::lock_guard lk(mu_);
    listeners_.erase(id);
  }
  store::Store& store() { return *store_; }
  uint64_t generation() {
    std::lock_guard lk(mu_);
    return db_.generation();
  }
  // What other writers committed since this host's view, folded in and applied (a pool's other
  // hosts; a store with one writer has nothing to catch up on).
  Status catch_up() {
    std::lock_guard lk(mu_);
    return catch_up_locked();
  }
  // The store's changes after `since` (see store::Store::changes_since), read under the lock.
  Result<std::optional<std::vector<store::Change>>> changes_since(uint64_t since) {
    std::lock_guard lk(mu_);
    return store_->changes_since(since);
  }

  // Loads the stored objects, creates the host record on first start (and scans its NICs, as an
  // install would), and re-creates the data plane from them. `local_host`: this host's uuid when
  // the store holds a pool (every member's objects); "" on a standalone store (its only host).
  Status start(const std::string& hostname, const std::string& local_host = "");
  // What pool.join and pool.eject do to this host: it moves onto store `next` (which the Manager
  // then owns), the model becomes what `next` holds, and the data plane follows it, changing
  // only what differs. `seed` runs on the first write to a store without this host (after its
  // NICs were scanned): what the host keeps (its management interface). On failure nothing
  // changes: the previous store and objects stay.
  using Seed = std::function<Status(model::Txn&, const std::string& host)>;
  Status rebase(std::unique_ptr<store::Store> next, const std::string& hostname,
                const std::string& local_host, const Seed& seed = nullptr);
  std::string local_host() {
    std::lock_guard lk(mu_);
    return db_.local_host();
  }

  // Runs `op` on a fresh Txn and commits it; returns op's value or the first error.
  Result<model::json> write(const std::function<Result<model::json>(model::Txn&)>& op);
  template <typename F>
  auto read(F&& f) {
    std::lock_guard lk(mu_);
    model::Txn view(db_, /*track_reads=*/false);
    return f(static_cast<const model::Txn&>(view));
  }
  std::vector<model::NicInfo> scan_nics() const { return scanner_(); }

  // Host addressing (addresses, routes, DNS, host name) applied with every change, and the
  // management safety net: a change of the management interface whose gateway does not answer
  // within `confirm_timeout_s` is rolled back, unless confirm_management() is called first.
  void set_host_addressing(HostAddressing* addressing, uint32_t confirm_timeout_s);
  // The host's part of route and nat networks, applied with every change touching them.
  void set_routed_networks(RoutedNetworks* routed) { routed_ = routed; }
  void set_sriov(SriovHost* sriov) { sriov_ = sriov; }
  void confirm_management();
  bool management_pending() const { return guard_pending_.load(); }
  std::optional<SwitchController::Rates> port_rates(const std::string& device) {
    return ctl_ ? ctl_->port_rates(device) : std::nullopt;
  }
  nlohmann::json mirror_status(const std::string& session) {
    return ctl_ ? ctl_->mirror_status(session) : nlohmann::json::object();
  }
  nlohmann::json port_status(const std::string& device) {
    return ctl_ ? ctl_->port_status(device) : nlohmann::json::object();
  }
  // The data plane's counters, drop ring, MAC table and packet traces (null: no data plane).
  SwitchController* switch_controller() { return ctl_; }

 private:
  Status start_locked(const std::string& hostname, const std::string& local_host, const Seed& seed);
  // The whole model onto this host (start): what cannot be brought up stays down, the rest runs.
  Status reconcile_all();
  // A commit onto this host: the data plane changes only the items of what changed; the host's
  // addressing is re-applied when an addressed PIF or the host name changed. `touched_host`: set
  // to whether anything this host uses changed.
  Status apply_commit(const store::Commit& c, const Reconciler::Before& before,
                      bool* touched_host = nullptr);
  // Commits `t` (re-running nothing: the caller holds the lock), folds it into db_ and publishes
  // it. Returns the commit and, per changed uuid, the object it replaced (nullopt: it was new).
  Result<store::Commit> commit_and_fold(const model::Txn& t, Reconciler::Before* before);
  // Folds a commit's changes into db_ (recording what each replaced in `before`) and publishes it.
  void fold(const store::Commit& c, Reconciler::Before* before);
  // Brings db_ up to what the store holds now (commits of other hosts of a pool), publishes it as
  // one commit and applies it to this host. Caller holds the lock.
  Status catch_up_locked();
  Result<model::json> write_impl(const std::function<Result<model::json>(model::Txn&)>& op,
                                 bool guard);
  void arm_guard(std::map<std::string, model::Object> before, std::string ifname,
                 std::string gateway);

  std::mutex mu_;
  model::Database db_;
  store::Store* store_;
  std::unique_ptr<store::Store> owned_;  // the store rebase() moved this host onto
  std::map<int, Listener> listeners_;
  int next_listener_ = 0;
  SwitchController* ctl_;  // null: no data plane (tests of the model alone)
  Reconciler reconciler_;  // what the data plane has, item by item
  NicScanner scanner_;
  HostAddressing* addressing_ = nullptr;
  RoutedNetworks* routed_ = nullptr;
  SriovHost* sriov_ = nullptr;
  uint32_t confirm_timeout_s_ = 30;
  std::mutex guard_mu_;
  std::condition_variable guard_cv_;
  uint64_t guard_generation_ = 0;
  std::atomic<bool> guard_pending_{false};
  std::thread guard_;

 public:
  ~Manager();
};

}  // namespace hvnet
