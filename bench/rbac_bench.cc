// What access control costs a call: network.get_record through Api::call for root (no check) and
// for a subject with the read-only role (its roles read from the model, the permission looked up),
// and the permission lookup alone. Real SQLite store in the temp directory, in-memory data plane.
#include <benchmark/benchmark.h>

#include "../tests/unit/mem_switch.h"
#include "../tests/unit/temp_db.h"
#include "api/api.h"
#include "api/rbac.h"
#include "store/sqlite_store.h"

namespace {

using namespace hvnet;
using json = nlohmann::json;

struct OneAccount : api::Authenticator {
  api::Account alice{"alice", 1001, 100, "", {100}, false};
  bool check_password(const std::string& u, const std::string& pw) override {
    return u == "alice" && pw == "pw";
  }
  std::optional<api::Account> user(const std::string& n) override {
    return n == "alice" ? std::optional(alice) : std::nullopt;
  }
  std::optional<api::Account> user_by_id(uint32_t id) override {
    return id == 1001 ? std::optional(alice) : std::nullopt;
  }
  std::optional<api::Account> group(const std::string&) override { return std::nullopt; }
  std::optional<api::Account> group_by_id(uint32_t) override { return std::nullopt; }
};

struct World {
  test::TempDb db{"rbac-bench"};
  test::MemSwitch sw;
  store::SqliteStore store;
  std::unique_ptr<Manager> mgr;
  std::unique_ptr<api::Api> api;
  std::string root, subject, net;

  World() {
    (void)store.open(db.path);
    mgr = std::make_unique<Manager>(store, &sw.ctl, [] { return std::vector<model::NicInfo>{}; });
    (void)mgr->start("bench");
    api = std::make_unique<api::Api>(*mgr, api::Credentials{"root", "pw"});
    api->set_authenticator(std::make_shared<OneAccount>());
    root = call("session.login_with_password", {"root", "pw"}).get<std::string>();
    net = call("network.create", json::array({root, json::object({{"name_label", "n"}})}))
              .get<std::string>();
    auto s = call("subject.create",
                  json::array({root, json::object({{"subject_identifier", "u1001"}})}));
    call("subject.add_to_roles",
         {root, s, "OpaqueRef:" + api::rbac::role_uuid(model::Role::kReadOnly)});
    subject = call("session.login_with_password", {"alice", "pw"}).get<std::string>();
  }
  json call(const std::string& m, json params) {
    auto r = api->call(m, params, api::Caller{});
    if (!r) throw std::runtime_error(r.error().to_string());
    return r.value();
  }
};

void BM_GetRecord(benchmark::State& state) {
  static World w;
  const std::string& s = state.range(0) ? w.subject : w.root;
  for (auto _ : state) benchmark::DoNotOptimize(w.call("network.get_record", {s, w.net}));
  state.SetLabel(state.range(0) ? "subject (read-only)" : "root");
}
BENCHMARK(BM_GetRecord)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_PermissionOf(benchmark::State& state) {
  const json args = json::array({"OpaqueRef:x", "folder", "/a"});
  for (auto _ : state)
    benchmark::DoNotOptimize(api::rbac::permission_of("network.add_to_other_config", args));
}
BENCHMARK(BM_PermissionOf);

}  // namespace

BENCHMARK_MAIN();
