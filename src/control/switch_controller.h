// SwitchController: the reconciler between the switch configuration and the data plane. apply()
// validates a change, opens the ports it adds, builds the next Snapshot from the current one
// (touching only the changed ports, VLANs and bridges), publishes it and waits for the forwarding
// threads to adopt it; only then are ports that left closed. Each new port is given to the
// forwarding thread receiving from the fewest ports. All-or-nothing: if the change is
// invalid or any port cannot be opened, nothing changes. Stable ids: a port, bridge or logical
// port keeps its index across applies, so traffic on untouched ports never notices.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "control/topology.h"
#include "dataplane/datapath.h"
#include "dataplane/snapshot.h"
#include "model/result.h"

namespace hvnet {

// Opens the backend for a port spec; `mtu` is the MTU the port's device should have (0 = leave).
using PortFactory = std::function<Result<std::shared_ptr<Port>>(const PortSpec&, uint32_t mtu)>;

// Stable small-integer ids for names; freed ids are reused lowest-first.
class IdMap {
 public:
  uint32_t get_or_assign(const std::string& key);
  std::optional<uint32_t> find(const std::string& key) const;
  void release(const std::string& key);
  uint32_t bound() const noexcept { return bound_; }  // one past the largest id ever assigned

 private:
  std::map<std::string, uint32_t> ids_;
  std::vector<uint32_t> free_;
  uint32_t bound_ = 0;
};

class SwitchController {
 public:
  SwitchController(SnapshotSlot& slot, Datapath& dp, PortFactory factory);

  // The whole configuration: validated as a whole, applied as its difference from the current one.
  Status apply(const TopologySpec& spec);
  // A change: costs what it changes, not what is configured.
  Status apply(const TopologyDelta& delta);
  TopologySpec topology() const;

  nlohmann::json fdb_json();
  nlohmann::json stats_json() const;
  // A port's receive and transmit rates in bytes/s, averaged between samples of its counters taken
  // by these calls at most once a second (the first: since the port opened). nullopt: no port.
  struct Rates {
    double rx = 0, tx = 0;
  };
  std::optional<Rates> port_rates(const std::string& name);
  // The last dropped frames: port, reason, and a decoded header (why was my frame refused?).
  nlohmann::json drops_json();
  // Live state of one port (a bond's mode, active member, LACP per member…), {} if unknown.
  nlohmann::json port_status(const std::string& name);
  // A mirroring session's copies sent so far: {"packets", "bytes"}, {} if it copies nothing.
  nlohmann::json mirror_status(const std::string& session) const;

 private:
  struct PortState {
    PortSpec spec;  // its own settings (`vlans` unused)
    std::shared_ptr<Port> port;
    std::string identity;  // what the backend was opened with; a change re-opens it
    std::map<uint16_t, std::string> vlans;  // LportEntry tag -> network
    // port_rates: the counters at the last average, and that average
    std::chrono::steady_clock::time_point rate_at;
    uint64_t rate_rx = 0, rate_tx = 0;
    bool rated = false;
    Rates rate;
  };
  // (port, LportEntry tag): 0 = the native network, kPriorityTagged = VLAN 0
  using VlanKey = std::pair<std::string, uint16_t>;
  struct Staged;

  Status apply_locked(const TopologyDelta& delta);
  // The network a VLAN of a port carries now ("" if none).
  std::string current_vlan(const VlanKey& k) const;
  Status validate(const Staged& next) const;

  SnapshotSlot& slot_;
  Datapath& dp_;
  std::vector<uint32_t> thread_ports_;  // per forwarding thread: the ports it receives from
  PortFactory factory_;
  mutable std::mutex mu_;
  uint32_t mac_ageing_s_ = 300;
  std::map<std::string, NetworkSpec> nets_;
  std::map<std::string, PortState> ports_;
  std::map<std::string, std::set<VlanKey>> users_;  // network -> the logical ports on it
  std::map<std::string, std::string> member_of_;    // bond member NIC -> its bond port
  std::shared_ptr<const Snapshot> snap_ = std::make_shared<const Snapshot>();  // last published
  IdMap port_ids_, bridge_ids_, lport_ids_;
  std::set<std::string> mirror_sources_;  // ports with mirror taps
  std::map<std::string, std::shared_ptr<MirrorCounters>> mirror_counters_;  // by session
};

}  // namespace hvnet
