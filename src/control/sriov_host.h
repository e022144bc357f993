// SriovHost: the host's SR-IOV NICs as the committed model has them. For each network_sriov of
// this host whose logical PIF is plugged, the NIC's VFs are enabled (sysfs sriov_numvfs, all of
// sriov_totalvfs, as XenServer's sysfs mode does); each VF a running VIF holds (VIF.sriov_VF) gets
// the VIF's MAC, the VLAN of its network on the logical PIF, a rate from its QoS and spoof
// checking from its locking mode, through rtnetlink IFLA_VF_* (hostnet/sriov.h); a VF given back
// is reset (no MAC, no VLAN, no rate, spoof checking on). A VF VIF has no TAP and no switch port:
// the NIC switches its frames.
//
// apply() changes only what differs from what it applied last, and keeps count of what did get
// applied, so that after a refusal the manager's revert (the old configuration applied again)
// puts each VF back. VFs already enabled in the right number (hvnetd restarted) are left alone.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hostnet/sriov.h"
#include "model/database.h"
#include "model/result.h"
#include "store/store.h"

namespace hvnet {

struct VfConfig {
  std::array<uint8_t, 6> mac{};
  uint16_t vlan = 0;
  uint32_t max_tx_mbps = 0;  // 0: no limit
  bool spoof_check = true;
  std::string vif;  // who holds it ("" for a free VF's settings)
  bool operator==(const VfConfig&) const = default;
};

using VfKey = std::pair<std::string, uint32_t>;  // (NIC device, VF)

struct SriovConfig {
  std::map<std::string, uint32_t> pfs;  // NIC device -> VFs enabled
  std::map<VfKey, VfConfig> vfs;        // the VFs held, with their settings
  bool operator==(const SriovConfig&) const = default;
};

// This host's whole SR-IOV configuration from the model.
SriovConfig sriov_config_from_model(const model::Txn& view);
// `cfg` with the VFs of these VIFs as they are now in `view`: what a write that changed only
// VIFs costs (the VIFs it changed, not the VFs held elsewhere).
SriovConfig sriov_config_after(const model::Txn& view, SriovConfig cfg,
                               const std::vector<std::string>& vifs);
// The settings of a VF nobody holds.
VfConfig free_vf();
// A VIF's rate limit (XenServer's kbps: kilobytes/s) as a VF's, in Mbit/s rounded up.
uint32_t vf_rate_mbps(uint64_t kbps);

// What a committed change can matter to in this host's SR-IOV (`view`: the model after it):
// nothing, the VF of the VIF it changed, or the whole configuration (NICs, logical PIFs, VLANs).
enum class SriovScope { kNone, kVif, kAll };
SriovScope changes_sriov(const store::Change& change, const model::Object* before,
                         const model::Txn& view);

class SriovHost {
 public:
  // ifindex_of: a device's interface index (0: none); if_nametoindex unless a test says.
  using IfIndexOf = std::function<int(const std::string&)>;
  SriovHost(hostnet::SriovSysfs sysfs, std::unique_ptr<hostnet::VfSender> sender,
            IfIndexOf ifindex_of = {});
  Status apply(const SriovConfig& cfg);
  const SriovConfig& applied() const { return have_; }

 private:
  // `was`: what this process last set on the VF (null: nothing yet, so every setting is sent).
  Status set_vf(const std::string& pf, uint32_t vf, const VfConfig& want, const VfConfig* was);
  hostnet::SriovSysfs sysfs_;
  std::unique_ptr<hostnet::VfSender> sender_;
  IfIndexOf ifindex_of_;
  SriovConfig have_;
};

}  // namespace hvnet
