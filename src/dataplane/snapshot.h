// Snapshot: the immutable data-plane configuration the forwarding threads read: ports, logical
// ports (a port as seen by one bridge, with its VLAN tag) and bridges. The control plane builds a
// new Snapshot and publishes it through SnapshotSlot; a published Snapshot is never modified, so
// workers read it without locks. Ports are shared_ptrs: a port outlives every snapshot naming it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/locking_filter.h"
#include "dataplane/lport_tag.h"
#include "io/port.h"

namespace hvnet {

enum class PortRole : uint8_t {
  kAccess,  // VIF or internal port: untagged frames belong to its one network
  kTrunk,   // PIF, or a VIF on a guest-tagging network: untagged frames go to its native network,
            // tagged ones to the network of their VLAN
};

// A mirroring session's counters: the copies it sent. Written by any forwarding thread.
struct MirrorCounters {
  std::atomic<uint64_t> packets{0}, bytes{0};
  void count(uint64_t n, uint64_t len) noexcept {  // once per batch
    packets.fetch_add(n, std::memory_order_relaxed);
    bytes.fetch_add(len, std::memory_order_relaxed);
  }
};
// Where a mirrored port's frames are copied: port `to`, with `vlan` pushed (0: as they are).
struct MirrorOut {
  PortId to = kNoPort;
  uint16_t vlan = 0;
  std::shared_ptr<MirrorCounters> counters;
};

struct PortEntry {
  std::shared_ptr<Port> port;  // null: this PortId is unused
  uint16_t thread = 0;         // the forwarding thread that receives from it (modulo their count)
  PortRole role = PortRole::kAccess;
  LportId native_lport = kNoLport;  // untagged / priority-tagged traffic
  std::vector<LportId> vid_map;     // trunk only: 4096 entries, VID -> logical port
  bool vif_trunk = false;           // a VIF's trunk: a tag it does not carry is vlan_not_in_trunk
  // VIF security policy (its network's): `promiscuous` also receives the unicast its networks
  // forward to other ports; `own_mac_only` (MAC changes rejected) receives no unicast flooded
  // for another MAC, and no other source MAC it sends from is learned on it.
  bool promiscuous = false;
  uint64_t own_mac_only = 0;
  // A routed network's VIF: its frames reach only the network's other, non-isolated ports (the
  // host's internal port), and frames from other isolated ports never reach it.
  bool isolated = false;
  std::vector<MirrorOut> mirror_rx, mirror_tx;  // mirroring sessions: received, sent frames
  bool slb_rx_filter = false;  // balance-slb bond: drop frames from MACs on local ports
  std::shared_ptr<const LockingRules> locking;  // VIF anti-spoofing; null = unlocked
  uint64_t qos_rate = 0;                        // VIF transmit limit in bytes/s (0 = none)
  uint64_t qos_burst = 0;                       // token bucket depth in bytes
  uint64_t qos_peak = 0;  // while spending the burst, at most this many bytes/s (0 = no cap)
  // VIF: the VM's MAC and the IPv4 addresses it is known by (the single addresses of its locking
  // rules), announced out of a bond on failover whether or not the VM has sent yet.
  uint64_t vif_mac = 0;
  std::vector<uint32_t> vif_ipv4;
};

struct LportEntry {
  PortId port = kNoPort;  // kNoPort: this LportId is unused
  BridgeId bridge = kNoBridge;
  uint16_t tag = 0;  // see kPriorityTagged
  bool operator==(const LportEntry&) const = default;
};

// A flood list, shared by every snapshot until a change to its bridge makes a new one: a snapshot
// of thousands of bridges copies in the time of copying pointers.
using FloodList = std::shared_ptr<const std::vector<LportId>>;
inline const FloodList kEmptyFlood = std::make_shared<const std::vector<LportId>>();

struct BridgeEntry {
  std::string name;  // empty: this BridgeId is unused
  uint32_t mtu = 1500;
  FloodList lports = kEmptyFlood;       // never null
  FloodList promiscuous = kEmptyFlood;  // the lports whose port is promiscuous; never null
};

struct Snapshot {
  uint64_t generation = 0;
  uint32_t mac_ageing_s = 300;
  std::vector<PortEntry> ports;
  std::vector<LportEntry> lports;
  std::vector<BridgeEntry> bridges;

  const PortEntry* port(PortId id) const noexcept {
    return id < ports.size() && ports[id].port ? &ports[id] : nullptr;
  }
};

// Where the control plane publishes snapshots and workers pick them up. publish() is cheap and
// never waits for workers; a worker checks generation() once per loop iteration (one atomic load)
// and takes the mutex only when it changed.
class SnapshotSlot {
 public:
  SnapshotSlot() : current_(std::make_shared<const Snapshot>()) {}

  uint64_t publish(std::shared_ptr<Snapshot> s) {
    std::lock_guard lk(mu_);
    s->generation = generation_.load() + 1;
    current_ = std::move(s);
    generation_.store(current_->generation, std::memory_order_release);
    return current_->generation;
  }
  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const Snapshot> get() const {
    std::lock_guard lk(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace hvnet
