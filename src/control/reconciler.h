// Reconciler: turns the stored objects into the data plane's configuration. Every network becomes a
// bridge (named by network.bridge); every attached physical PIF (or bond master) an AF_PACKET (or
// bond) trunk port carrying its network untagged and the networks of its attached VLAN PIFs
// tagged; every attached PIF with an IP configuration the internal port of its network; every
// attached VIF a TAP named vif<domid>.<device> with the VIF's MAC; every transport PIF of active
// tunnels a VXLAN or GRE endpoint (one per protocol) carrying their networks to the pool's other
// hosts.
//
// Each object maps to at most one item of the configuration (a network, a port, a VLAN), computed
// from the object and the few it refers to. The Reconciler remembers the items the data plane has;
// for a commit it recomputes only the items of the changed objects and of those whose item reads
// them, and hands back the difference: a write costs what it changes, not what exists.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "control/topology.h"
#include "model/database.h"
#include "store/store.h"

namespace hvnet {

class Reconciler {
 public:
  // The objects a commit replaced, by uuid (nullopt: the commit created it).
  using Before = std::map<std::string, std::optional<model::Object>>;

  explicit Reconciler(uint32_t mac_ageing_s = 300, uint16_t vxlan_port = kVxlanDefaultPort)
      : mac_ageing_s_(mac_ageing_s), vxlan_port_(vxlan_port) {}

  // The whole model's configuration (at start): every item recomputed; adopted at once.
  TopologySpec rebuild(const model::Txn& view);

  // What the data plane must change after `changes` (the model now as `view`), not yet adopted.
  struct Plan {
    TopologyDelta delta;
    std::map<std::string, std::optional<NetworkSpec>> nets;  // network uuid -> its bridge
    std::map<std::string, std::optional<PortSpec>> ports;    // item key -> its port
    std::map<std::string, std::optional<VlanItem>> vlans;    // VLAN uuid -> its VLAN
  };
  Plan plan(const model::Txn& view, const std::vector<store::Change>& changes,
            const Before& before) const;
  // The data plane applied `p`: it is what the data plane has now.
  void adopt(Plan&& p);
  // The data plane could bring up only `have`: forget the ports (and their VLANs) it lacks, so the
  // next change touching them sets them again.
  void keep_only(const TopologySpec& have);

 private:
  std::map<std::string, NetworkSpec> nets_;
  std::map<std::string, PortSpec> ports_;
  std::map<std::string, VlanItem> vlans_;
  uint32_t mac_ageing_s_;
  uint16_t vxlan_port_;  // the pool's VXLAN UDP port
};

// The whole configuration of the model, in one pass (tests, benchmarks and start).
TopologySpec topology_from_model(const model::Txn& view, uint32_t mac_ageing_s,
                                 uint16_t vxlan_port = kVxlanDefaultPort);

// Whether a committed change can matter to this host's data plane or addressing (`before`: the
// object it replaced, null if new). Names, descriptions, tags and other_config (outside PIFs,
// whose other_config holds bond timers) never do, nor do classes the data plane does not read:
// such writes cost a commit and an event, not a reconfiguration.
bool changes_host(const store::Change& change, const model::Object* before);

// Whether it can matter to the host's own addressing (its IP-configured PIFs and host name).
bool changes_addressing(const store::Change& change, const model::Object* before);

// Whether it can matter to the host's route and nat networks (control/routed_networks.h): such
// a network, a VIF on one (`view`: the model after the change), or the management interface.
bool changes_routing(const store::Change& change, const model::Object* before,
                     const model::Txn& view);

}  // namespace hvnet
