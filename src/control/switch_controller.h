// SwitchController: the reconciler between a TopologySpec and the data plane. apply() opens the
// ports a new spec needs, builds a complete Snapshot, publishes it and waits for the forwarding
// thread to adopt it; only then are ports that left the spec closed. All-or-nothing: if any port
// cannot be opened, nothing changes. Stable ids: a port, bridge or logical port keeps its index
// across applies, so traffic on untouched ports never notices a reconfiguration.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "control/topology.h"
#include "dataplane/snapshot.h"
#include "dataplane/worker.h"
#include "model/result.h"

namespace hvnet {

// Opens the backend for a port spec; `mtu` is the MTU the port's device should have (0 = leave).
using PortFactory = std::function<Result<std::shared_ptr<Port>>(const PortSpec&, uint32_t mtu)>;

// Stable small-integer ids for names; freed ids are reused lowest-first.
class IdMap {
 public:
  uint32_t get_or_assign(const std::string& key);
  void retain_only(const std::map<std::string, bool>& keep);
  uint32_t bound() const noexcept { return bound_; }  // one past the largest id ever assigned

 private:
  std::map<std::string, uint32_t> ids_;
  std::vector<uint32_t> free_;
  uint32_t bound_ = 0;
};

class SwitchController {
 public:
  SwitchController(SnapshotSlot& slot, Worker& worker, PortFactory factory);

  Status apply(const TopologySpec& spec);
  TopologySpec topology() const;

  nlohmann::json fdb_json();
  nlohmann::json stats_json() const;
  // The last dropped frames: port, reason, and a decoded header (why was my frame refused?).
  nlohmann::json drops_json();
  // Live state of one port (a bond's mode, active member, LACP per member…), {} if unknown.
  nlohmann::json port_status(const std::string& name);

 private:
  struct OpenPort {
    std::shared_ptr<Port> port;
    PortKind kind;
    std::string identity;  // what the backend was opened with; a change re-opens it
  };

  SnapshotSlot& slot_;
  Worker& worker_;
  PortFactory factory_;
  mutable std::mutex mu_;
  TopologySpec current_;
  std::map<std::string, OpenPort> ports_;
  IdMap port_ids_, bridge_ids_, lport_ids_;
};

}  // namespace hvnet
