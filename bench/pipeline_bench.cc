// Forwarding pipeline throughput on in-memory ports (no kernel): learned unicast, flood, VLAN
// push/pop, the scaling over forwarding threads, and the MAC table at 1k, 100k and 1M entries.
// Reports packets/s via items_per_second. Frames are 64 bytes; rx copies each frame into a pool
// buffer (as a real port would), tx is a sink.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <functional>
#include <random>

#include "control/switch_controller.h"
#include "dataplane/datapath.h"
#include "io/mem_port.h"
#include "packet/mac.h"

namespace hvnet {
namespace {

std::vector<uint8_t> frame64(uint64_t dst, uint64_t src, int vid) {
  std::vector<uint8_t> f;
  auto d = MacAddr::from_u64(dst), s = MacAddr::from_u64(src);
  f.insert(f.end(), d.b.begin(), d.b.end());
  f.insert(f.end(), s.b.begin(), s.b.end());
  if (vid >= 0) f.insert(f.end(), {0x81, 0x00, uint8_t(vid >> 8), uint8_t(vid)});
  f.insert(f.end(), {0x08, 0x00});
  f.resize(vid >= 0 ? 64 : 60, 0);
  return f;
}

struct BenchSwitch {
  SnapshotSlot slot;
  Datapath dp{slot, DatapathOptions{}};
  Worker& worker = dp.worker(0);
  std::map<std::string, std::shared_ptr<MemPort>> ports;
  SwitchController ctl{slot, dp,
                       [this](const PortSpec& s, uint32_t) -> Result<std::shared_ptr<Port>> {
                         auto p = std::make_shared<MemPort>(s.name);
                         p->set_sink(true);
                         ports[s.name] = p;
                         return std::shared_ptr<Port>(p);
                       }};
  // `edit`: changes to the topology below before it is applied (trunks, shaping, mirrors).
  explicit BenchSwitch(int vifs, bool locked = false,
                       const std::function<void(nlohmann::json&)>& edit = {}) {
    nlohmann::json j = {{"networks", {{{"name", "net0"}}, {{"name", "net10"}}}}};
    for (int i = 0; i < vifs; ++i)
      j["ports"].push_back({{"name", "vif" + std::to_string(i)}, {"network", "net0"}});
    if (locked) {  // vif0 locked to its MAC and four allowed addresses
      j["ports"][0]["mac"] = "00:16:3e:00:00:01";
      j["ports"][0]["locking"] = {{"mode", "locked"},
                                  {"ipv4", {"10.0.0.9", "10.0.1.0/24", "10.0.2.1", "10.0.0.1"}}};
    }
    j["ports"].push_back({{"name", "vlanvif"}, {"network", "net10"}});
    j["ports"].push_back(
        {{"name", "eth0"}, {"type", "pif"}, {"vlans", {{{"tag", 10}, {"network", "net10"}}}}});
    if (edit) edit(j);
    auto spec = parse_topology(j);
    if (!spec || !ctl.apply(spec.value())) std::abort();
  }
  // Teaches the table where `mac` lives by receiving one frame from it on `port`.
  void teach(const std::string& port, uint64_t mac, int vid = -1) {
    ports[port]->inject(frame64(0xffffffffffff, mac, vid));
    ports[port]->set_sink(true);
    while (ports[port]->pending_rx()) worker.poll_once(0);
  }
};

void run(benchmark::State& state, BenchSwitch& sw) {
  uint64_t pkts = 0;
  for (auto _ : state) {
    sw.worker.poll_once(0);
    pkts += kBatchSize;
  }
  state.SetItemsProcessed(int64_t(pkts));
}

void BM_LearnedUnicast(benchmark::State& state) {
  BenchSwitch sw(2);
  sw.teach("vif1", 0x00163e000002);
  sw.ports["vif0"]->set_replay({frame64(0x00163e000002, 0x00163e000001, -1)});
  run(state, sw);
}
BENCHMARK(BM_LearnedUnicast);

// The same learned-unicast path with IPv4 frames, without and with the locking filter on vif0.
std::vector<uint8_t> ipv4_frame64() {
  auto f = frame64(0x00163e000002, 0x00163e000001, -1);
  const uint8_t ip[20] = {0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  std::copy(ip, ip + 20, f.begin() + 14);
  return f;
}
void BM_Ipv4Unlocked(benchmark::State& state) {
  BenchSwitch sw(2);
  sw.teach("vif1", 0x00163e000002);
  sw.ports["vif0"]->set_replay({ipv4_frame64()});
  run(state, sw);
}
BENCHMARK(BM_Ipv4Unlocked);
void BM_Ipv4Locked(benchmark::State& state) {
  BenchSwitch sw(2, /*locked=*/true);
  sw.teach("vif1", 0x00163e000002);
  sw.ports["vif0"]->set_replay({ipv4_frame64()});
  run(state, sw);
  if (sw.worker.stats().dropped(DropReason::kLockIpv4) != 0) state.SkipWithError("frames dropped");
}
BENCHMARK(BM_Ipv4Locked);

void BM_LearnedUnicastManyMacs(benchmark::State& state) {
  BenchSwitch sw(2);
  std::vector<std::vector<uint8_t>> frames;
  for (uint64_t i = 0; i < 1024; ++i) {
    sw.teach("vif1", 0x020000000000 + i);
    frames.push_back(frame64(0x020000000000 + i, 0x040000000000 + i, -1));
  }
  sw.ports["vif0"]->set_replay(frames);
  run(state, sw);
}
BENCHMARK(BM_LearnedUnicastManyMacs);

void BM_Flood(benchmark::State& state) {
  BenchSwitch sw(int(state.range(0)));
  sw.ports["vif0"]->set_replay({frame64(0xffffffffffff, 0x00163e000001, -1)});
  run(state, sw);
  state.counters["out_ports"] = double(state.range(0) - 1);
}
BENCHMARK(BM_Flood)->Arg(4)->Arg(16);

void BM_VlanPush(benchmark::State& state) {
  BenchSwitch sw(2);
  sw.teach("eth0", 0x525400000009, 10);
  sw.ports["vlanvif"]->set_replay({frame64(0x525400000009, 0x00163e000001, -1)});
  run(state, sw);
}
BENCHMARK(BM_VlanPush);

void BM_VlanPop(benchmark::State& state) {
  BenchSwitch sw(2);
  sw.teach("vlanvif", 0x00163e000001);
  sw.ports["eth0"]->set_replay({frame64(0x00163e000001, 0x525400000009, 10)});
  run(state, sw);
}
BENCHMARK(BM_VlanPop);

// Issue-20 features against BM_LearnedUnicast's path: a trunk VIF sending tagged into VLAN 10
// (tag kept, no rewrite), the same VIF under network shaping that never runs out (the token
// bucket's bookkeeping per batch), and a mirroring session copying both directions of vif0.
void BM_TrunkVifTagged(benchmark::State& state) {
  BenchSwitch sw(2, false, [](nlohmann::json& j) {
    j["ports"].push_back({{"name", "trunkvif"},
                          {"vlan_trunk", true},
                          {"network", "net0"},
                          {"vlans", {{{"tag", 10}, {"network", "net10"}}}}});
    j["ports"][3]["network"] = "net0";  // eth0 carries net0 untagged
  });
  sw.teach("eth0", 0x525400000009, 10);
  sw.ports["trunkvif"]->set_replay({frame64(0x525400000009, 0x00163e000001, 10)});
  run(state, sw);
  if (sw.worker.stats().forwarded.load() == 0) state.SkipWithError("nothing forwarded");
}
BENCHMARK(BM_TrunkVifTagged);

void BM_ShapedVif(benchmark::State& state) {
  BenchSwitch sw(2, false, [](nlohmann::json& j) {
    j["ports"][0]["shaping"] = {{"average", 100000000}, {"peak", 100000000}, {"burst", 100000000}};
  });
  sw.teach("vif1", 0x00163e000002);
  sw.ports["vif0"]->set_replay({frame64(0x00163e000002, 0x00163e000001, -1)});
  run(state, sw);
}
BENCHMARK(BM_ShapedVif);

// A routed network's VIF (isolated): its frames to the host's port, one check per frame more.
void BM_RoutedVifToHost(benchmark::State& state) {
  BenchSwitch sw(2, false, [](nlohmann::json& j) { j["ports"][0]["isolated"] = true; });
  sw.teach("vif1", 0x00163e000002);
  sw.ports["vif0"]->set_replay({frame64(0x00163e000002, 0x00163e000001, -1)});
  run(state, sw);
  if (sw.worker.stats().forwarded.load() == 0) state.SkipWithError("nothing forwarded");
}
BENCHMARK(BM_RoutedVifToHost);

void BM_MirroredUnicast(benchmark::State& state) {
  BenchSwitch sw(2, false, [](nlohmann::json& j) {
    j["ports"][0]["mirrors"] = {{{"session", "s"}, {"to", "mon"}, {"direction", "both"}}};
    j["ports"].push_back({{"name", "mon"}, {"mirror_destination", true}});
  });
  sw.teach("vif1", 0x00163e000002);
  sw.ports["vif0"]->set_replay({frame64(0x00163e000002, 0x00163e000001, -1)});
  run(state, sw);
  state.counters["copies"] = double(sw.ctl.mirror_status("s")["packets"].get<uint64_t>());
}
BENCHMARK(BM_MirroredUnicast);

// Forwarding threads: thread i of N receives on a<i> and sends to b<i> (BM_Threads), or to the
// b of the next thread (BM_ThreadsCrossing: every batch is sent on a port another thread
// receives from, so the tx locks are shared). Each benchmark thread runs one worker's loop.
struct ScaleSwitch {
  SnapshotSlot slot;
  Datapath dp;
  std::map<std::string, std::shared_ptr<MemPort>> ports;
  SwitchController ctl;
  ScaleSwitch(uint32_t threads, bool crossing)
      : dp(slot, DatapathOptions{threads, WorkerOptions{}}),
        ctl(slot, dp, [this](const PortSpec& s, uint32_t) -> Result<std::shared_ptr<Port>> {
          auto p = std::make_shared<MemPort>(s.name);
          p->set_sink(true);
          ports[s.name] = p;
          return std::shared_ptr<Port>(p);
        }) {
    nlohmann::json j = {{"networks", {{{"name", "net0"}}}}};
    for (uint32_t i = 0; i < threads; ++i) {
      j["ports"].push_back({{"name", "a" + std::to_string(i)}, {"network", "net0"}});
      j["ports"].push_back({{"name", "b" + std::to_string(i)}, {"network", "net0"}});
    }
    (void)ctl.apply(parse_topology(j).value());
    for (uint32_t i = 0; i < threads; ++i) {  // (names sort a0..aN, b0..bN: a<i>, b<i> on thread i)
      auto& b = *ports["b" + std::to_string(i)];
      b.inject(frame64(0xffffffffffff, 0x0a0000000000 + i, -1));
      while (b.pending_rx()) dp.poll_once(0);
    }
    for (uint32_t i = 0; i < threads; ++i) {
      const uint32_t to = crossing ? (i + 1) % threads : i;
      ports["a" + std::to_string(i)]->set_replay(
          {frame64(0x0a0000000000 + to, 0x0c0000000000 + i, -1)});
    }
  }
};
std::unique_ptr<ScaleSwitch> g_scale;

void threads_case(benchmark::State& state, bool crossing) {
  if (state.thread_index() == 0) g_scale = std::make_unique<ScaleSwitch>(state.threads(), crossing);
  // (The benchmark's threads start the loop together, after thread 0 built the switch.)
  Worker* w = nullptr;
  uint64_t pkts = 0;
  for (auto _ : state) {
    if (!w) w = &g_scale->dp.worker(uint32_t(state.thread_index()));
    w->poll_once(0);
    pkts += kBatchSize;
  }
  state.SetItemsProcessed(int64_t(pkts));
  if (state.thread_index() == 0) g_scale.reset();
}
void BM_Threads(benchmark::State& state) {
  threads_case(state, false);
}
BENCHMARK(BM_Threads)->ThreadRange(1, 8)->UseRealTime();
void BM_ThreadsCrossing(benchmark::State& state) {
  threads_case(state, true);
}
BENCHMARK(BM_ThreadsCrossing)->ThreadRange(2, 8)->UseRealTime();

// The MAC table with range(0) entries (capacity as large): lookups and refreshes of known MACs in
// random order (what forwarding does per frame), and learning new ones into a full table.
std::vector<uint64_t> shuffled_macs(uint64_t n, uint64_t seed) {
  std::vector<uint64_t> v(n);
  for (uint64_t i = 0; i < n; ++i) v[i] = 0x020000000000 + i * 0x9e3779b1ULL % 0xffffffffffULL;
  std::mt19937_64 rng(seed);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}
// A table of n entries learned at second 1 on 64 logical ports (MAC i on port i % 64).
void fill(MacTable& t, const std::vector<uint64_t>& macs, uint64_t n) {
  t.reserve_lports(64);
  for (uint64_t i = 0; i < n; ++i) t.learn(0, macs[i], LportId(i % 64), 1);
}
void BM_MacLookup(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  MacTable t(uint32_t(n), 300);
  auto macs = shuffled_macs(n, 1);
  fill(t, macs, n);
  std::shuffle(macs.begin(), macs.end(), std::mt19937_64(2));
  size_t i = 0;
  uint64_t found = 0;
  for (auto _ : state) {
    found += t.lookup(0, macs[i], 1) != kNoLport;
    if (++i == macs.size()) i = 0;
  }
  if (found != uint64_t(state.iterations())) state.SkipWithError("a learned MAC was not found");
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["bytes_per_entry"] = double(MacTable::kBytesPerEntry);
}
BENCHMARK(BM_MacLookup)->Arg(1000)->Arg(100000)->Arg(1000000);
void BM_MacRefresh(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  MacTable t(uint32_t(n), 300);
  auto macs = shuffled_macs(n, 3);
  fill(t, macs, n);
  size_t i = 0;
  uint32_t now = 2;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.learn(0, macs[i], LportId(i % 64), now));
    if (++i == macs.size()) {
      i = 0;
      ++now;
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_MacRefresh)->Arg(1000)->Arg(100000)->Arg(1000000);
void BM_MacLearnNew(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  MacTable t(uint32_t(n), 300);
  auto macs = shuffled_macs(4 * n, 5);
  fill(t, macs, n);  // full
  size_t i = n;
  for (auto _ : state) {
    // Each MAC is new when learned (the table holds the last n; the list is 4n long).
    benchmark::DoNotOptimize(t.learn(0, macs[i], LportId(i % 64), 1));
    if (++i == macs.size()) i = 0;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_MacLearnNew)->Arg(1000)->Arg(100000)->Arg(1000000);

}  // namespace
}  // namespace hvnet

BENCHMARK_MAIN();
