// What a write costs against the size of the model: a write must cost what it changes, not what
// exists. One PIF carrying 0, 400 or 2000 VLANs (each with its network), then per iteration:
//  - network.set_name_description (touches nothing the data plane uses: commit + event only);
//  - VLAN.create + VLAN.destroy on that PIF (a data-plane change: commit, reconcile, snapshot).
// Goal: each within 2x across the three sizes. Real SQLite store (WAL, synchronous=FULL) in the
// temp directory, in-memory data plane.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "../tests/unit/mem_switch.h"
#include "api/api.h"
#include "control/reconciler.h"
#include "model/ops.h"
#include "store/sqlite_store.h"

namespace {

using namespace hvnet;
using json = nlohmann::json;

struct World {
  std::string path;
  test::MemSwitch sw;
  store::SqliteStore store;
  std::unique_ptr<Manager> mgr;
  std::unique_ptr<api::Api> api;
  std::string session, pif, net;

  explicit World(int vlans)
      : path((std::filesystem::temp_directory_path() /
              ("hvnet-bench-" + std::to_string(getpid()) + "-" + model::new_uuid() + ".db"))
                 .string()) {
    (void)store.open(path);
    mgr = std::make_unique<Manager>(store, &sw.ctl, [] {
      return std::vector<model::NicInfo>{{"eth0", "52:54:00:00:00:01", 1500}};
    });
    (void)mgr->start("bench");
    // The VLANs in one write (setting up is not what is measured).
    (void)mgr->write([&](model::Txn& t) -> Result<json> {
      pif = t.all_of("PIF").front();
      for (int i = 0; i < vlans; ++i) {
        auto n = model::network_create(t, {{"name_label", "v" + std::to_string(i)}});
        if (!n) return n.error();
        auto v = model::vlan_create(t, pif, i + 2, n.value());
        if (!v) return v.error();
      }
      return json();
    });
    api = std::make_unique<api::Api>(*mgr, api::Credentials{"root", "x"});
    session = api->call("session.login_with_password", json::array({"root", ""}),
                        api::Caller(api::Origin::kLocal))
                  .value();
    net = call("network.create", {{{"name_label", "measured"}}}).value();
  }
  ~World() {
    api.reset();
    mgr.reset();
    for (auto s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
  Result<json> call(const std::string& m, json args) {
    json p = json::array({session});
    for (auto& a : args) p.push_back(a);
    return api->call(m, p, api::Caller(api::Origin::kLocal));
  }
};

void BM_SetNameDescription(benchmark::State& state) {
  World w(int(state.range(0)));
  int i = 0;
  for (auto _ : state) {
    auto r = w.call("network.set_name_description", {w.net, "d" + std::to_string(i++)});
    if (!r) state.SkipWithError(r.error().to_string().c_str());
  }
}
BENCHMARK(BM_SetNameDescription)->Arg(0)->Arg(400)->Arg(2000)->Unit(benchmark::kMillisecond);

void BM_VlanCreateDestroy(benchmark::State& state) {
  World w(int(state.range(0)));
  const std::string pif = model::kRefPrefix + w.pif;
  for (auto _ : state) {
    auto v = w.call("VLAN.create", {pif, 4000, w.net});
    if (!v) {
      state.SkipWithError(v.error().to_string().c_str());
      break;
    }
    auto d = w.call("VLAN.destroy", {v.value()});
    if (!d) state.SkipWithError(d.error().to_string().c_str());
  }
}
BENCHMARK(BM_VlanCreateDestroy)->Arg(0)->Arg(400)->Arg(2000)->Unit(benchmark::kMillisecond);

// The whole-model topology build: paid once at start; a write recomputes only what it changed.
void BM_TopologyFromModel(benchmark::State& state) {
  World w(int(state.range(0)));
  for (auto _ : state) {
    auto spec = w.mgr->read([](const model::Txn& t) { return topology_from_model(t, 300); });
    benchmark::DoNotOptimize(spec);
  }
}
BENCHMARK(BM_TopologyFromModel)->Arg(0)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
