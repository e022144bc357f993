// The SR-IOV edge of a host, behind two seams so that everything above it runs without an SR-IOV
// NIC:
//   - SriovSysfs: a NIC's virtual functions as sysfs shows them under a root (/sys, or a tree a
//     test writes): sriov_totalvfs, sriov_numvfs (written to enable VFs), and each VF's PCI
//     address and network device (device/virtfn<N>);
//   - VfSender: where rtnetlink requests setting a VF's MAC, VLAN, rate and spoof check go: the
//     kernel (NetlinkVfSender) or a recorder (RecordingVfSender). Both get the bytes one builder
//     (vf_request) makes, so the bytes a test checks are the bytes the kernel is sent.
// configure_vf applies a VF's settings one request each, in a fixed order, and on a refusal puts
// back those it had changed: nothing is left half-done.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/result.h"

namespace hvnet::hostnet {

struct VfInfo {
  uint32_t index = 0;
  std::string pci;     // its PCI address, 0000:03:10.2 ("" when sysfs does not link it)
  std::string device;  // its network device ("" when it has none, e.g. bound to vfio)
};

class SriovSysfs {
 public:
  explicit SriovSysfs(std::string root = "/sys") : root_(std::move(root)) {}
  // VFs the NIC's device supports (0: not SR-IOV capable, or no such NIC).
  uint32_t total_vfs(const std::string& nic) const;
  uint32_t num_vfs(const std::string& nic) const;
  // Enables `n` VFs (0 disables them). The kernel takes a new non-zero count only from zero, so
  // a change goes through 0. NETWORK_SRIOV_ENABLE_FAILED [nic, reason] when refused.
  Status set_num_vfs(const std::string& nic, uint32_t n) const;
  std::vector<VfInfo> vfs(const std::string& nic) const;
  const std::string& root() const { return root_; }

 private:
  std::string device_dir(const std::string& nic) const;
  std::string root_;
};

// One setting of one VF of a physical function (PF).
struct VfSetting {
  enum class Kind : uint8_t { kMac, kVlan, kRate, kSpoofCheck };
  Kind kind = Kind::kMac;
  std::array<uint8_t, 6> mac{};
  uint16_t vlan = 0, qos = 0;  // VLAN 0: untagged
  uint32_t max_tx_mbps = 0;    // 0: no limit
  bool spoof_check = true;
};
const char* vf_setting_name(VfSetting::Kind k) noexcept;

// The RTM_SETLINK request setting `s` on VF `vf` of the PF with interface index `pf_ifindex`.
std::vector<uint8_t> vf_request(int pf_ifindex, uint32_t vf, const VfSetting& s, uint32_t seq);

class VfSender {
 public:
  virtual ~VfSender() = default;
  // 0 or a negative errno.
  virtual int send(const std::vector<uint8_t>& request) = 0;
};

// The kernel, over rtnetlink.
class NetlinkVfSender : public VfSender {
 public:
  int send(const std::vector<uint8_t>& request) override;
};

// What would have been sent; `fail_at` (1-based) makes that request fail with `error`.
class RecordingVfSender : public VfSender {
 public:
  int send(const std::vector<uint8_t>& request) override {
    sent.push_back(request);
    return fail_at && sent.size() == fail_at ? error : 0;
  }
  std::vector<std::vector<uint8_t>> sent;
  size_t fail_at = 0;
  int error = -95;  // EOPNOTSUPP
};

// Appends each request, as one line of hex, to a file and reports success: a whole hvnetd runs
// its SR-IOV path on a host without SR-IOV hardware (hvnetd --vf-netlink record:FILE), and a test
// reads the bytes it would have sent the kernel.
class FileVfSender : public VfSender {
 public:
  explicit FileVfSender(std::string path) : path_(std::move(path)) {}
  int send(const std::vector<uint8_t>& request) override;

 private:
  std::string path_;
};

// Sets `wanted` on VF `vf` of PF device `pf`, one request each; if one is refused, sends `before`'s
// setting of the same kind for each one already set, then returns
// NETWORK_SRIOV_ENABLE_FAILED [pf, "VF <n>: <setting> refused: <reason>"].
Status configure_vf(VfSender& sender, const std::string& pf, int pf_ifindex, uint32_t vf,
                    const std::vector<VfSetting>& wanted, const std::vector<VfSetting>& before);

}  // namespace hvnet::hostnet
