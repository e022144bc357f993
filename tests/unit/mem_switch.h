// MemSwitch: a whole switch (controller + forwarding workers, no thread unless a test starts them)
// over in-memory ports, for tests that need no root. Frames are injected per port; step()
// forwards everything pending. `worker` is the first (with one thread, the only) worker.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "control/switch_controller.h"
#include "dataplane/bond_port.h"
#include "dataplane/datapath.h"
#include "io/mem_port.h"

namespace hvnet::test {

class MemSwitch {
 public:
  explicit MemSwitch(WorkerOptions opt = {}, uint32_t threads = 1)
      : dp(slot, DatapathOptions{threads, opt}),
        worker(dp.worker(0)),
        ctl(slot, dp, [this](const PortSpec& s, uint32_t) { return open_port(s); }) {
    dp.set_clock([this] { return now; });
    dp.set_clock_ms([this] { return now_ms; });
  }

  Status apply_json(const nlohmann::json& j) {
    auto spec = parse_topology(j);
    if (!spec) return spec.error();
    return ctl.apply(spec.value());
  }
  MemPort& port(const std::string& name) { return *ports.at(name); }
  // Forwards until no port has frames waiting.
  void step() {
    for (int i = 0; i < 1000; ++i) {
      bool pending = false;
      for (auto& [n, p] : ports) pending |= p->pending_rx() > 0;
      if (!pending) break;
      dp.poll_once(0);
    }
  }
  uint64_t dropped(DropReason r) { return dp.dropped(r); }

  uint32_t now = 1000;
  std::string fail_open;            // a port name whose open() fails, to test all-or-nothing
  std::set<std::string> ring_like;  // ports opened as ring-polled MemPorts (see MemPort)
  SnapshotSlot slot;
  Datapath dp;
  Worker& worker;
  SwitchController ctl;
  std::map<std::string, std::shared_ptr<MemPort>> ports;
  std::map<std::string, int> opens;  // how often each port was opened
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> carrier;  // bond members
  std::map<std::string, std::shared_ptr<BondPort>> bonds;
  uint64_t now_ms = 1000000;

 private:
  Result<std::shared_ptr<Port>> open_port(const PortSpec& s) {
    if (s.name == fail_open) return make_error("PORT_OPEN_FAILED", {s.name, "test"});
    ++opens[s.name];
    if (s.kind == PortKind::kBond) {  // members are MemPorts with test-controlled carrier
      std::vector<BondMemberSpec> members;
      for (const auto& m : s.members) {
        auto mp = std::make_shared<MemPort>(m);
        ports[m] = mp;
        auto& flag = carrier[m];
        if (!flag) flag = std::make_shared<std::atomic<bool>>(true);
        members.push_back(
            BondMemberSpec{mp, flag, {0x02, 0, 0, 0, 0, uint8_t(members.size() + 1)}});
      }
      auto bond = std::make_shared<BondPort>(s.name, s.bond, std::move(members));
      bonds[s.name] = bond;
      return std::shared_ptr<Port>(bond);
    }
    auto p = std::make_shared<MemPort>(s.name, ring_like.count(s.name) > 0);
    ports[s.name] = p;
    return std::shared_ptr<Port>(p);
  }
};

}  // namespace hvnet::test
