#include "control/manager.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

#include "control/reconciler.h"

namespace hvnet {

Manager::Manager(store::SqliteStore& store, SwitchController* ctl, NicScanner scanner,
                 uint32_t mac_ageing_s)
    : store_(store), ctl_(ctl), scanner_(std::move(scanner)), mac_ageing_s_(mac_ageing_s) {}

Status Manager::reconcile(const model::Txn& view) {
  if (!ctl_) return ok_status();
  if (auto st = ctl_->apply(topology_from_model(view, mac_ageing_s_)); !st) return st;
  return addressing_ ? addressing_->apply(host_config_from_model(view)) : ok_status();
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
  for (const auto& pif : t.all_of("PIF")) {
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
  return write_impl(op, /*guard=*/true);
}

Result<model::json> Manager::write_impl(const std::function<Result<model::json>(model::Txn&)>& op,
                                        bool guard) {
  std::unique_lock lk(mu_);
  model::Txn t(db_);
  // An operation, the reconciler or the store that throws leaves nothing behind: the staged
  // change is dropped and the data plane put back to the committed objects.
  auto contained = [&](auto&& step) -> Status {
    try {
      return step();
    } catch (const std::exception& e) {
      spdlog::error("write failed: {}", e.what());
      try {
        model::Txn old(db_);
        (void)reconcile(old);
      } catch (const std::exception& e2) {
        spdlog::error("data plane not restored: {}", e2.what());
      }
      return make_error("INTERNAL_ERROR", {e.what()});
    }
  };
  Result<model::json> r = model::json();
  if (auto st = contained([&]() -> Status {
        r = op(t);
        return ok_status();
      });
      !st)
    return st.error();
  if (!r || t.empty()) return r;
  if (auto st = contained([&]() -> Status {
        if (auto st = reconcile(t); !st) {
          model::Txn old(db_);
          (void)reconcile(old);  // a partly applied change is put back
          return st;
        }
        if (auto st = store_.commit(t.changes()); !st) {
          model::Txn old(db_);
          (void)reconcile(old);  // put the data plane back as it was
          return st;
        }
        return ok_status();
      });
      !st)
    return st.error();
  // The management safety net: remember what a management change replaced.
  model::Txn before_view(db_);
  const MgmtView was = management_of(before_view), now = management_of(t);
  std::map<std::string, model::Object> before;
  if (guard && addressing_ && !(was == now) && !was.pif.empty() && !now.gateway.empty()) {
    for (const auto& [uuid, obj] : t.changes())
      if (const model::Object* o = db_.get(uuid); o && o->cls == "PIF") before[uuid] = *o;
  }
  for (const auto& [uuid, obj] : t.changes()) {
    if (obj)
      db_.put(uuid, *obj);
    else
      db_.erase(uuid);
  }
  lk.unlock();
  if (!before.empty()) arm_guard(std::move(before), now.ifname, now.gateway);
  return r;
}

}  // namespace hvnet
