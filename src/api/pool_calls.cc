// Pool membership calls: pool.join (run on the joining host, as in XenServer), pool.eject
// (through any member), and the master calls admins' scripts use, although the master is
// elected through etcd by itself (control/pool.h). pool.join_credentials is hvnet's: what a
// joining host receives from a member, over the HTTPS session of a pool admin.
#include <thread>

#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::register_pool() {
  auto join = [this](const json& a) -> Result<json> {
    for (size_t i = 0; i < 3; ++i)
      if (auto s = arg_string(a, i,
                              i == 0   ? "master_address"
                              : i == 1 ? "master_username"
                                       : "master_password");
          !s)
        return s.error();
    if (!pool_) return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {"no pool support here"});
    auto fp =
        pool_->join(a[0].get<std::string>(), a[1].get<std::string>(), a[2].get<std::string>());
    if (!fp) return fp.error();
    return json(fp.value());  // the master certificate's pinned fingerprint
  };
  add("pool.join", 3, join);
  add("pool.join_force", 3, join);
  add("pool.join_credentials", 0, [this](const json&) -> Result<json> {
    if (!pool_) return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {"no pool support here"});
    return pool_->credentials();
  });
  add("pool.eject", 1, [this](const json& a) -> Result<json> {
    std::string host;
    auto st = mgr_.write([&](Txn& t) -> Result<json> {
      auto h = resolve(t, "host", a[0]);
      if (!h) return h.error();
      host = h.value();
      if (auto s = model::pool_eject(t, host); !s) return s.error();
      return void_value();
    });
    if (!st) return st;
    // This host: back to standalone now. Another member notices its record is gone itself.
    if (pool_ && host == mgr_.local_host())
      if (auto s = pool_->leave(); !s) return s.error();
    return void_value();
  });
  auto master_of = [this](const json& a) -> Result<std::string> {
    return mgr_.read([&](const Txn& t) { return resolve(t, "host", a[0]); });
  };
  add("pool.designate_new_master", 1, [this, master_of](const json& a) -> Result<json> {
    auto h = master_of(a);
    if (!h) return h.error();
    if (!pool_ || !pool_->config()) {
      if (h.value() == mgr_.local_host()) return void_value();
      return make_error("HOST_IS_SLAVE", {"not in a pool"});
    }
    if (pool_->master() == h.value()) return void_value();
    // The key may move while it is handed over (an election): try again on the new holder.
    Status st = pool_->designate(h.value());
    for (int i = 0;
         i < 5 && !st && st.error().params == std::vector<std::string>{"mastership moved"}; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      st = pool_->designate(h.value());
    }
    if (!st) return st.error();
    return void_value();
  });
  add("pool.emergency_transition_to_master", 0, [this](const json&) -> Result<json> {
    if (pool_)
      if (auto st = pool_->take_over(); !st) return st.error();
    return void_value();
  });
  add("pool.emergency_reset_master", 1, [](const json& a) -> Result<json> {
    // Members follow the elected master through etcd: there is nothing to point them at.
    if (auto s = arg_string(a, 0, "master_address"); !s) return s.error();
    return void_value();
  });
  add("pool.recover_slaves", 0, [](const json&) -> Result<json> {
    // No member ever waits on a dead master: none needs recovering.
    return json::array();
  });
}

}  // namespace hvnet::api
