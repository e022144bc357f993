// Manager: the network manager's single entry point for reads and writes of the object model.
// A write runs an operation on a Txn, reconfigures the data plane from the staged objects, and
// commits the Txn to the store; if any step fails, the data plane is put back and nothing of the
// change remains (all or nothing, crash-safe through the store's transaction). Serialised by one
// mutex: writes are rare and short; the data plane never waits on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "control/host_addressing.h"
#include "control/switch_controller.h"
#include "model/database.h"
#include "model/ops.h"
#include "store/sqlite_store.h"

namespace hvnet {

class Manager {
 public:
  using NicScanner = std::function<std::vector<model::NicInfo>()>;
  Manager(store::SqliteStore& store, SwitchController* ctl, NicScanner scanner,
          uint32_t mac_ageing_s = 300);

  // Loads the stored objects, creates the host record on first start (and scans its NICs, as an
  // install would), and re-creates the data plane from them.
  Status start(const std::string& hostname);

  // Runs `op` on a fresh Txn and commits it; returns op's value or the first error.
  Result<model::json> write(const std::function<Result<model::json>(model::Txn&)>& op);
  template <typename F>
  auto read(F&& f) {
    std::lock_guard lk(mu_);
    model::Txn view(db_);
    return f(static_cast<const model::Txn&>(view));
  }
  std::vector<model::NicInfo> scan_nics() const { return scanner_(); }

  // Host addressing (addresses, routes, DNS, host name) applied with every change, and the
  // management safety net: a change of the management interface whose gateway does not answer
  // within `confirm_timeout_s` is rolled back, unless confirm_management() is called first.
  void set_host_addressing(HostAddressing* addressing, uint32_t confirm_timeout_s);
  void confirm_management();
  bool management_pending() const { return guard_pending_.load(); }
  nlohmann::json port_status(const std::string& device) {
    return ctl_ ? ctl_->port_status(device) : nlohmann::json::object();
  }

 private:
  Status reconcile(const model::Txn& view);
  Result<model::json> write_impl(const std::function<Result<model::json>(model::Txn&)>& op,
                                 bool guard);
  void arm_guard(std::map<std::string, model::Object> before, std::string ifname,
                 std::string gateway);

  std::mutex mu_;
  model::Database db_;
  store::SqliteStore& store_;
  SwitchController* ctl_;  // null: no data plane (tests of the model alone)
  NicScanner scanner_;
  uint32_t mac_ageing_s_;
  HostAddressing* addressing_ = nullptr;
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
