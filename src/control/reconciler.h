// Reconciler: turns the stored objects into the data plane's TopologySpec. Every network becomes a
// bridge (named by network.bridge); every attached physical PIF an AF_PACKET trunk port carrying
// its network untagged and the networks of its attached VLAN PIFs tagged; every attached VIF a TAP
// named vif<domid>.<device> with the VIF's MAC. Pure function of the objects.
#pragma once

#include "control/topology.h"
#include "model/database.h"

namespace hvnet {

TopologySpec topology_from_model(const model::Txn& view, uint32_t mac_ageing_s);

}  // namespace hvnet
