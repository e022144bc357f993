// Reconciler: turns the stored objects into the data plane's TopologySpec. Every network becomes a
// bridge (named by network.bridge); every attached physical PIF an AF_PACKET trunk port carrying
// its network untagged and the networks of its attached VLAN PIFs tagged; every attached VIF a TAP
// named vif<domid>.<device> with the VIF's MAC. Pure function of the objects.
#pragma once

#include "control/topology.h"
#include "model/database.h"
#include "store/store.h"

namespace hvnet {

// Costs O(objects): one pass per class, lookups through maps built on the way.
TopologySpec topology_from_model(const model::Txn& view, uint32_t mac_ageing_s);

// Whether a committed change can matter to this host's data plane or addressing (`before`: the
// object it replaced, null if new). Names, descriptions, tags and other_config (outside PIFs,
// whose other_config holds bond timers) never do, nor do classes the data plane does not read:
// such writes cost a commit and an event, not a reconfiguration.
bool changes_host(const store::Change& change, const model::Object* before);

}  // namespace hvnet
