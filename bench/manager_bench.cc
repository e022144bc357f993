// What a write costs against the size of the model: a write must cost what it changes, not what
// exists. One PIF carrying 0, 400 or 2000 VLANs (each with its network), then per iteration:
//  - network.set_name_description (touches nothing the data plane uses: commit + event only);
//  - VLAN.create + VLAN.destroy on that PIF (a data-plane change: commit, reconcile, snapshot).
// Goal: each within 2x across the three sizes. Real SQLite store (WAL, synchronous=FULL) in the
// temp directory, in-memory data plane.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../tests/unit/mem_switch.h"
#include "api/api.h"
#include "control/reconciler.h"
#include "control/sriov_host.h"
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

  explicit World(int vlans, model::NicInfo nic = {"eth0", "52:54:00:00:00:01", 1500})
      : path((std::filesystem::temp_directory_path() /
              ("hvnet-bench-" + std::to_string(getpid()) + "-" + model::new_uuid() + ".db"))
                 .string()) {
    (void)store.open(path);
    mgr = std::make_unique<Manager>(store, &sw.ctl,
                                    [nic] { return std::vector<model::NicInfo>{nic}; });
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

// A VM with one VF VIF started and shut down (VF taken, set, reset, given back) while `held`
// other VMs hold VFs of the same 256-VF NIC: the cost of a start must not grow with the VFs
// held elsewhere more than the model's walk over the network's VIFs. Recorded VF requests,
// sysfs in the temp directory.
void BM_SriovVmStartShutdown(benchmark::State& state) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("hvnet-bench-sysfs-" + model::new_uuid());
  fs::create_directories(root / "class/net/eth0/device");
  std::ofstream(root / "class/net/eth0/device/sriov_totalvfs") << "256\n";
  std::ofstream(root / "class/net/eth0/device/sriov_numvfs") << "0\n";
  World w(0, {"eth0", "52:54:00:00:00:01", 1500, {"sriov"}, 256, "8086:10ed"});
  SriovHost sriov(hostnet::SriovSysfs(root.string()),
                  std::make_unique<hostnet::RecordingVfSender>(),
                  [](const std::string&) { return 7; });
  w.mgr->set_sriov(&sriov);
  std::string vm;
  auto made = w.mgr->write([&](model::Txn& t) -> Result<json> {
    const std::string net = model::network_create(t, {{"name_label", "vfs"}}).value();
    if (auto s = model::network_sriov_create(t, w.pif, net); !s) return s.error();
    for (int i = 0; i <= int(state.range(0)); ++i) {
      vm = model::vm_create(t, {{"name_label", "vm"}}).value();
      (void)model::vm_shutdown(t, vm);
      auto vif = model::vif_create(t, {{"VM", vm}, {"network", net}, {"device", "0"}});
      if (!vif) return vif.error();
      if (i < int(state.range(0)))
        if (auto st = model::vm_start(t, vm); !st) return st.error();
    }
    return json();
  });
  if (!made) state.SkipWithError(made.error().to_string().c_str());
  const std::string ref = model::kRefPrefix + vm;
  for (auto _ : state) {
    auto r = w.call("VM.start", {ref, false, false});
    if (r) r = w.call("VM.hard_shutdown", {ref});
    if (!r) {
      state.SkipWithError(r.error().to_string().c_str());
      break;
    }
  }
  w.mgr->set_sriov(nullptr);
  fs::remove_all(root);
}
BENCHMARK(BM_SriovVmStartShutdown)->Arg(0)->Arg(60)->Arg(250)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
