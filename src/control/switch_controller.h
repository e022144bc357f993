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
#include "dataplane/packet_trace.h"
#include "dataplane/snapshot.h"
#include "model/result.h"

namespace hvnet {

// Opens the backend for a port spec; `mtu` is the MTU the port's device should have (0 = leave).
using PortFactory = std::function<Result<std::shared_ptr<Port>>(const PortSpec&, uint32_t mtu)>;

// What the switch has counted, read without stopping the forwarding threads (relaxed loads of
// counters they alone write): per port and switch-wide.
struct PortCounters {
  std::string name, type, backend, backend_reason;
  uint64_t rx_packets = 0, rx_bytes = 0, rx_dropped = 0, rx_missed = 0;
  uint64_t tx_packets = 0, tx_bytes = 0, tx_errors = 0;
  uint64_t qos_kbps = 0;  // its transmit limit (VIF), 0 = none
};
struct SwitchStats {
  std::vector<PortCounters> ports;  // by name
  std::array<uint64_t, size_t(DropReason::kCount)> drops{};
  uint64_t forwarded = 0, flooded = 0, learned = 0, mac_moves = 0, mac_evictions = 0,
           mac_expired = 0, mac_entries = 0;
  uint32_t threads = 0;
};
// One frame of the drop ring, decoded.
struct DropRecord {
  uint64_t seq = 0;
  std::string port;
  DropReason reason = DropReason::kCount;
  uint32_t len = 0;
  std::string src, dst, ethertype;  // "" when the frame is shorter than its Ethernet header
  int vlan = -1;                    // its 802.1Q VID, -1 untagged
};
// One learned MAC address.
struct FdbRecord {
  std::string network, mac, port;
  uint16_t vlan = 0;
  uint32_t age = 0;
};
// A frame to trace (SwitchController::trace): received on `in_port`, from `src` to `dst`, tagged
// `vlan` (0: untagged), of `ethertype`; IPv4 and ARP frames carry `src_ip` -> `dst_ip` (UDP
// `src_port` -> `dst_port` for IPv4).
struct TraceRequest {
  std::string in_port, src, dst;
  uint16_t vlan = 0, ethertype = 0x0800;
  std::string src_ip = "0.0.0.0", dst_ip = "0.0.0.0";
  uint16_t src_port = 0, dst_port = 0;
};

// The frame a TraceRequest describes (IPv4 + UDP, an ARP request, or a bare EtherType; padded to
// 60 bytes). INVALID_VALUE [field, value] for a MAC or address it cannot take.
Result<std::vector<uint8_t>> trace_frame(const TraceRequest& req);

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

  std::vector<FdbRecord> fdb();
  SwitchStats stats() const;
  std::vector<DropRecord> drops();  // oldest first
  // What the switch would do with the frame now (live snapshot and MAC table; nothing changes).
  // INVALID_VALUE [field, value] for a MAC, address or port it cannot take.
  Result<TraceResult> trace(const TraceRequest& req) const;
  // hvnetctl's shapes of the same.
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
