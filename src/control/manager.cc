#include "control/manager.h"

#include "control/reconciler.h"

namespace hvnet {

Manager::Manager(store::SqliteStore& store, SwitchController* ctl, NicScanner scanner,
                 uint32_t mac_ageing_s)
    : store_(store), ctl_(ctl), scanner_(std::move(scanner)), mac_ageing_s_(mac_ageing_s) {}

Status Manager::reconcile(const model::Txn& view) {
  if (!ctl_) return ok_status();
  return ctl_->apply(topology_from_model(view, mac_ageing_s_));
}

Status Manager::start(const std::string& hostname) {
  std::lock_guard lk(mu_);
  if (auto st = store_.load(db_); !st) return st;
  model::Txn t(db_);
  if (model::local_host(t).empty()) {
    std::string host = model::ensure_host(t, hostname);
    if (auto r = model::pif_scan(t, host, scanner_()); !r) return r.error();
    if (auto st = store_.commit(t.changes()); !st) return st;
    for (const auto& [uuid, obj] : t.changes()) db_.put(uuid, *obj);
  }
  model::Txn view(db_);
  if (auto st = reconcile(view); !st) {
    // A device that vanished while we were down must not keep the rest of the host offline:
    // bring up what can be brought up and leave the rest unplugged in the data plane.
    TopologySpec spec = topology_from_model(view, mac_ageing_s_);
    TopologySpec usable = spec;
    usable.ports.clear();
    for (const auto& p : spec.ports) {
      usable.ports.push_back(p);
      if (!ctl_->apply(usable)) usable.ports.pop_back();
    }
    return ctl_->apply(usable);
  }
  return ok_status();
}

Result<model::json> Manager::write(const std::function<Result<model::json>(model::Txn&)>& op) {
  std::lock_guard lk(mu_);
  model::Txn t(db_);
  Result<model::json> r = op(t);
  if (!r || t.empty()) return r;
  if (auto st = reconcile(t); !st) return st.error();
  if (auto st = store_.commit(t.changes()); !st) {
    model::Txn old(db_);
    (void)reconcile(old);  // put the data plane back as it was
    return st.error();
  }
  for (const auto& [uuid, obj] : t.changes()) {
    if (obj)
      db_.put(uuid, *obj);
    else
      db_.erase(uuid);
  }
  return r;
}

}  // namespace hvnet
