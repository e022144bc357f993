// The network manager's operations on the object model, XenServer semantics: each one validates
// in xapi's order, returns a XenAPI error with the offending values on bad input, and stages its
// changes in the Txn it is given (the caller commits or drops them). No I/O: the host's NICs come
// in as data (PIF.scan), so every rule is unit-testable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/database.h"
#include "model/result.h"

namespace hvnet::model {

struct NicInfo {
  std::string device;
  std::string mac;
  uint32_t mtu = 1500;
  std::vector<std::string> capabilities;  // PIF.capabilities: "sriov" when it has VFs to give
  int64_t sriov_totalvfs = 0;             // the VFs its device can give
  std::string pci_id;                     // PCI "vendor:device" ("" when not a PCI device)
};

inline constexpr int64_t kMinMtu = 68;
inline constexpr int64_t kMaxMtu = 9216;

// host and pool
inline constexpr int64_t kApiVersionMajor = 2;
inline constexpr int64_t kApiVersionMinor = 21;
inline constexpr const char* kHvnetVersion = "0.2.0";
std::string ensure_host(Txn& t, const std::string& hostname);
std::string local_host(const Txn& t);
// The pool record (a standalone host is a pool of one, its master).
std::string ensure_pool(Txn& t, const std::string& master);
// The host's version fields (API version, software_version…) as this build has them.
void refresh_host_identity(Txn& t, const std::string& host);

// pool membership
// XenServer's refusals of a host joining a pool: bonds, tunnels, SR-IOV, VLANs other than the
// management one, plugged VIFs, other members, another API version than the master's
// (`master_host` record).
Status pool_join_checks(const Txn& joiner, const json& master_host);
// Stages on `pool` the joiner's host, PIFs, VMs and VIFs, each PIF and VIF on the pool network
// of the same bridge (the joiner's own network when the pool has none), then the pool's bonds
// (by member devices) and VLANs (by trunk device) on the joiner's PIFs. Returns the host.
Result<std::string> pool_join(Txn& pool, const Txn& joiner);
// Bond.create in a pool: the bond on `members`, and the same bond on every other member's PIFs
// of the same devices (members without those NICs, or already on `network`, are left out). One
// host refusing refuses it all.
Result<std::string> pool_bond_create(Txn& t, const std::string& network,
                                     const std::vector<std::string>& members,
                                     const std::string& mac, const std::string& mode,
                                     const json& properties);
// Stages the removal of `host` and what is its own (PIFs, VLANs, bonds, resident VMs and VIFs).
// Refused for the master (HOST_CANNOT_DESTROY_SELF) and while a VIF of its VMs is plugged.
Status pool_eject(Txn& pool, const std::string& host);

// network
Result<std::string> network_create(Txn& t, const json& record);
Status network_destroy(Txn& t, const std::string& net);
Status network_add_purpose(Txn& t, const std::string& net, const std::string& purpose);
Status network_remove_purpose(Txn& t, const std::string& net, const std::string& purpose);

// PIF
Result<std::vector<std::string>> pif_scan(Txn& t, const std::string& host,
                                          const std::vector<NicInfo>& nics);
Status pif_plug(Txn& t, const std::string& pif);
Status pif_unplug(Txn& t, const std::string& pif);
Status pif_forget(Txn& t, const std::string& pif);

// VLAN. Tag 4095 (vSphere's "all VLANs" port group) makes the network a guest VLAN tagging
// network on the tagged PIF: its VIFs send and receive the tags of network.trunk_VLANs, each
// in the domain of the uplink's VLAN network of that tag; an uplink may carry several.
inline constexpr int64_t kTrunkVlanTag = 4095;
Result<std::string> vlan_create(Txn& t, const std::string& tagged_pif, int64_t tag,
                                const std::string& network);
Status vlan_destroy(Txn& t, const std::string& vlan);
Result<std::vector<std::string>> pool_create_vlan(Txn& t, const std::string& device,
                                                  const std::string& network, int64_t tag);

// Bond (2-4 members; mode balance-slb | active-backup | lacp)
Result<std::string> bond_create(Txn& t, const std::string& network,
                                const std::vector<std::string>& members, const std::string& mac,
                                const std::string& mode, const json& properties);
Status bond_destroy(Txn& t, const std::string& bond);
Status bond_set_mode(Txn& t, const std::string& bond, const std::string& mode);
Status bond_set_property(Txn& t, const std::string& bond, const std::string& key,
                         const std::string& value);

// tunnel: tunnel.create (protocol "gre", xapi's default, or "vxlan"; the access PIF tunnelN is
// plugged at once, which needs an IP configuration on the transport PIF) and destroy.
Result<std::string> tunnel_create(Txn& t, const std::string& transport_pif,
                                  const std::string& network, const std::string& protocol);
Status tunnel_destroy(Txn& t, const std::string& tunnel);
// The network a tunnel puts on its host (its access PIF's; "" if gone).
std::string tunnel_network(const Txn& t, const std::string& tunnel);
// The network's key (VNI or GRE key) a tunnel carries.
uint32_t tunnel_key(const Txn& t, const std::string& tunnel);
// Whether it runs: both PIFs plugged, the transport PIF with a static IPv4 address.
bool tunnel_active(const Txn& t, const std::string& tunnel);
// The VTEPs its host sends the network's frames to: the transport addresses of the other hosts'
// active tunnels on the network and the network's external VTEPs (sorted, without its own).
std::vector<std::string> tunnel_remotes(const Txn& t, const std::string& tunnel);
// tunnel.status: key, active, error (why not active), remote_VTEPs (comma-separated).
json tunnel_status(const Txn& t, const std::string& tunnel);
// A Static PIF's IPv4 address ("" otherwise).
std::string pif_ipv4_address(const json& pif);
// The largest MTU a network's tunnels carry: the smallest of their transport PIFs' MTUs less the
// encapsulation (tunnel_overhead_ipv4: 50 bytes for VXLAN, 42 for GRE); kMaxMtu without any.
int64_t tunnel_mtu_limit(const Txn& t, const std::string& network);
// network.trunk_VLANs as sorted, merged [first, last] ranges of 1..4094 (at most 256 items;
// empty: every VLAN). VLAN_TAG_INVALID [item] out of range, INVALID_VALUE [field, item] malformed.
using VlanRanges = std::vector<std::pair<uint16_t, uint16_t>>;
Result<VlanRanges> parse_trunk_vlans(const json& items);
bool vlan_in(const VlanRanges& r, uint16_t tag);
// The guest tagging network's VLAN PIF (tag 4095) on a host ("" if none): its tagged PIF is the
// uplink whose VLANs the network's VIFs reach.
std::string trunk_pif(const Txn& t, const std::string& network, const std::string& host);
// network.external_VTEPs: at most 64 unicast IPv4 addresses.
Status check_external_vteps(const json& addrs);

// port_mirror (hvnet): record with name_label, ingress_sources/egress_sources (VIF or PIF
// uuids or refs, at least one source in all, at most 64), destination_VIF or destination_PIF
// (exactly one, not a source, the destination of no other session) and destination_VLAN
// (0..4094, a PIF's only). HANDLE_INVALID for an unknown object, INVALID_VALUE otherwise.
Result<std::string> port_mirror_create(Txn& t, const json& record);
Status port_mirror_destroy(Txn& t, const std::string& mirror);
// Checks a session's sources (set_field on ingress_/egress_sources) and returns them as uuids.
Result<json> check_mirror_sources(const Txn& t, const std::string& mirror, const json& sources);
// A VIF or PIF going away: it leaves every session's sources; sessions it was the destination
// of go with it.
void forget_mirror_port(Txn& t, const std::string& port);

// SR-IOV (model/sriov_ops.cc): network_sriov objects, their logical PIFs and the VFs VIFs hold.
inline constexpr const char* kSriovLogicalMac = "fe:ff:ff:ff:ff:ff";
// network_sriov.create: XenServer's refusals in its order (PIF_IS_NOT_PHYSICAL,
// NETWORK_SRIOV_ALREADY_ENABLED, PIF_IS_NOT_SRIOV_CAPABLE, NETWORK_ALREADY_CONNECTED,
// NETWORK_INCOMPATIBLE_WITH_SRIOV, NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS), then the logical PIF,
// plugged.
Result<std::string> network_sriov_create(Txn& t, const std::string& pif,
                                         const std::string& network);
// Refused while a VLAN sits on the logical PIF or a VIF holds one of its VFs.
Status network_sriov_destroy(Txn& t, const std::string& sriov);
// The VFs its NIC gives (PIF.sriov_totalvfs) less those held; 0 while the logical PIF is unplugged.
int64_t sriov_remaining_capacity(const Txn& t, const std::string& sriov);
// VIF uuid by VF index: the VFs of its NIC that running VIFs hold.
std::map<int64_t, std::string> sriov_held_vfs(const Txn& t, const std::string& sriov);
// The network_sriov whose logical PIF this is, or under this VLAN PIF ("" none).
std::string sriov_of_logical(const Txn& t, const std::string& pif);
std::string sriov_under(const Txn& t, const std::string& pif);
// An SR-IOV network: its PIFs are logical PIFs or VLANs on them.
bool is_sriov_network(const Txn& t, const std::string& net);
// Where a network's VIFs find VFs on a host: the network_sriov, the VLAN its VFs tag (0: none)
// and the network's PIF there.
struct SriovPlace {
  std::string sriov;
  int64_t vlan = 0;
  std::string pif;
};
std::optional<SriovPlace> sriov_on_host(const Txn& t, const std::string& net,
                                        const std::string& host);
// A VM starting on `host`: each of its VIFs on an SR-IOV network takes the lowest free VF
// (NETWORK_SRIOV_INSUFFICIENT_CAPACITY [network] when none is left; VM_REQUIRES_NETWORK when the
// network is not plugged there).
Status take_vfs(Txn& t, const std::string& vm, const std::string& host);
// OPERATION_NOT_ALLOWED while a VIF holds one of its VFs.
Status refuse_vfs_in_use(const Txn& t, const std::string& sriov);
// A logical PIF plugged (VFs enabled through sysfs) or unplugged (refused while VFs are held).
Status pif_sriov_plugged(Txn& t, const std::string& logical, bool plugged);
// An SR-IOV VIF is attached with its VM only (OPERATION_NOT_ALLOWED, xapi's words).
Status refuse_sriov_vif_hotplug(const Txn& t, const std::string& vif);
// What SR-IOV forbids of other objects: bonds, tunnels, VLANs on or into SR-IOV networks, and
// forgetting a logical PIF or a physical one under SR-IOV (XenServer's error codes).
enum class SriovUse { kBond, kTunnel, kVlan, kForget };
Status refuse_sriov_topology(const Txn& t, SriovUse use, const std::string& pif,
                             const std::string& network);

// VM (a minimal record owning VIFs) and VIF
Result<std::string> vm_create(Txn& t, const json& record);
Status vm_destroy(Txn& t, const std::string& vm);
Result<std::string> vif_create(Txn& t, const json& record);
Status vif_destroy(Txn& t, const std::string& vif);
// VM.start (Halted -> Running on this host, its VIFs attached, VFs taken) and VM.hard_shutdown
// / clean_shutdown (Running -> Halted, VIFs detached, VFs given back); VM_BAD_POWER_STATE else.
Status vm_start(Txn& t, const std::string& vm);
Status vm_shutdown(Txn& t, const std::string& vm);
// A VM's allowed_operations: by power state, without migrations when it holds a VF.
json vm_allowed_operations(const Txn& t, const std::string& vm);
Status vif_plug(Txn& t, const std::string& vif);
Status vif_unplug(Txn& t, const std::string& vif);
// Whether a VIF's VM runs on this host (a pool's members plug the VIFs of the VMs they run; a VM
// resident nowhere is this host's).
bool vif_runs_here(const Txn& t, const json& vif);
// The host-side device name of a VIF: vif<domid>.<device>, or its vifname.
std::string vif_device_name(const Txn& t, const std::string& vif);

// Port locking and QoS of VIFs, default locking mode of networks
Status vif_set_locking_mode(Txn& t, const std::string& vif, const std::string& mode);
// The locking mode a VIF runs with: its own, or (network_default) its network's default.
std::string vif_effective_locking_mode(const Txn& t, const json& vif);
// A VIF's ratelimit QoS (XenServer's kbps: kilobytes/s, and timeslice_us); zeros when none.
struct VifRate {
  uint64_t kbps = 0;
  uint64_t timeslice_us = 0;
};
VifRate vif_rate(const json& vif);
// family "ipv4" or "ipv6"; addresses or CIDR prefixes
Status vif_set_allowed(Txn& t, const std::string& vif, const std::string& family,
                       const json& addrs);
Status vif_add_allowed(Txn& t, const std::string& vif, const std::string& family,
                       const std::string& addr);
Status vif_remove_allowed(Txn& t, const std::string& vif, const std::string& family,
                          const std::string& addr);
Status network_set_default_locking_mode(Txn& t, const std::string& net, const std::string& mode);

// Host addressing: IP configuration of PIFs, the management interface, the host name
Status pif_reconfigure_ip(Txn& t, const std::string& pif, const std::string& mode,
                          const std::string& ip, const std::string& netmask,
                          const std::string& gateway, const std::string& dns);
Status host_management_reconfigure(Txn& t, const std::string& pif);
Status host_management_disable(Txn& t, const std::string& host);
Status pool_management_reconfigure(Txn& t, const std::string& network);
Status host_set_hostname(Txn& t, const std::string& host, const std::string& name);
Status pif_reconfigure_ipv6(Txn& t, const std::string& pif, const std::string& mode,
                            const std::string& ipv6, const std::string& gateway,
                            const std::string& dns);
// Does the PIF carry an IPv4 or IPv6 configuration (so the host needs an interface there)?
bool pif_has_ip_config(const json& pif);
// The subnet (network address, prefix) of a PIF with a Static IPv4 configuration.
std::optional<std::pair<uint32_t, int>> pif_ipv4_subnet(const json& pif);

// subject: API users (a system account "u<uid>" or group "g<gid>") and their roles (role uuids,
// checked by the API, which owns the role table). A new subject has no roles (xapi with RBAC).
Result<std::string> subject_create(Txn& t, const std::string& identifier, const json& other_config);
Status subject_add_role(Txn& t, const std::string& subject, const std::string& role);
Status subject_remove_role(Txn& t, const std::string& subject, const std::string& role);
// The subjects with one of these identifiers.
std::vector<std::string> subjects_of(const Txn& t, const std::vector<std::string>& identifiers);

// Host interfaces and logical networks (hvnet; vocabulary in model/services.h).
// The services a PIF serves: its own (PIF.services), its network's roles, and management.
std::set<std::string> pif_services(const Txn& t, const std::string& pif);
// PIF.services / network.roles as the API shows them (with "management" where it holds).
json shown_services(const Txn& t, const std::string& uuid);
// set_ checks; each returns what to store (known names without "management", sorted). A PIF's
// services need an IP configuration (PIF_HAS_NO_NETWORK_CONFIGURATION); a service already
// served by another interface of the host gives HOST_SERVICE_ALREADY_ASSIGNED [service, PIF],
// a role another network has NETWORK_ROLE_ALREADY_ASSIGNED [role, network].
Result<json> check_pif_services(const Txn& t, const std::string& pif, const json& value);
Result<json> check_network_roles(const Txn& t, const std::string& net, const json& value);
// A VM network (the default) takes VIFs; a non-VM one does not, and its plain NICs (physical
// PIFs) leave the switch: the host's address sits on the NIC itself.
bool is_vm_network(const json& network);
bool releases_nic(const Txn& t, const json& pif);
// PIF_CARRIES_NON_VM_NETWORK [pif, network] for a NIC a non-VM network holds (VLANs, bonds and
// mirrors need it in the switch).
Status refuse_non_vm_nic(const Txn& t, const std::string& pif);
// Turning a network non-VM (vm false): no VIF on it, none of its NICs used by the switch.
Status check_vm_network(const Txn& t, const std::string& net, bool vm);
// NIC labels: network.label (one) and PIF.labels (up to 16), [A-Za-z0-9_.-]{1,64} each.
Status check_labels(const std::string& field, const json& value);
// network.label / label_VLAN as they would be (`next`): a label needs a VLAN 1..4094; the VLAN
// changes only while the network has no PIF.
Status check_label_vlan(const Txn& t, const std::string& net, const json& next);
// Attaches labelled networks (all, or `network`) to the NICs carrying their label (all, or
// `pif`): a VLAN label_VLAN on the NIC for each host the network is not on yet.
Status attach_labels(Txn& t, const std::string& network = "", const std::string& pif = "");
// The required networks (network.required) `host` lacks: no attached PIF there, or no carrier
// on it (`carrier` of a kernel device; a VLAN's is its trunk's, a bond's any member's).
using CarrierOf = std::function<bool(const std::string& device)>;
std::vector<std::string> missing_required_networks(const Txn& t, const std::string& host,
                                                   const CarrierOf& carrier);
// Whether the host's record already says so (a host not in the model needs nothing).
bool host_network_state_is(const Txn& t, const std::string& host,
                           const std::vector<std::string>& missing);
// Records them on the host (network_state "operational" / "non-operational", missing_networks);
// false if it already says so.
bool set_host_network_state(Txn& t, const std::string& host,
                            const std::vector<std::string>& missing);

// Classic Xen's network modes (network.mode: bridge, route, nat) and xl vif specs (hvnet).
struct Subnet4 {
  uint32_t address = 0;  // the host's (gateway) address, host byte order
  int prefix = 0;
};
struct XlVif;
// "a.b.c.d/len", len 8..30, a host address of the subnet; nullopt otherwise.
std::optional<Subnet4> parse_subnet4(const std::string& text);
std::optional<Subnet4> network_subnet(const json& network);
std::string network_mode(const json& network);  // "bridge" when unset
// set_ checks: the mode changes only while no VIF is attached (NETWORK_CONTAINS_VIF) and, for
// route and nat, without PIFs (NETWORK_CONTAINS_PIF); nat needs a subnet. A subnet overlaps no
// other network's nor a PIF's. Port forwards "tcp|udp:<host port>=<VM address>:<port>", at most
// 64, the address in the subnet, each host port once.
Result<std::string> check_network_mode(const Txn& t, const std::string& net,
                                       const std::string& value);
Status check_network_subnet(const Txn& t, const std::string& net, const std::string& value);
Result<json> check_port_forwards(const Txn& t, const std::string& net, const json& value);
// A VIF's own device name (xl's vifname): 1-15 of [A-Za-z0-9_.-], no other VIF's, PIF's or
// bridge's.
Status check_vifname(const Txn& t, const std::string& name);
// NETWORK_INCOMPATIBLE_MODE [network, mode] for a PIF (VLAN, bond, tunnel) on a route or nat
// network: those live inside the host.
Status refuse_internal_network(const Txn& t, const std::string& net);
// The VIFs of xl vif specs on `vm`, all or none: the network by bridge= (else the host's
// network of script='s mode, else xenbr0), the VM's next free devices, the MAC or a random one,
// rate= as ratelimit QoS (kbps, timeslice_us), ip= as ipv4_allowed; a script that disagrees with
// the network's mode is refused (INVALID_VALUE [script, ...]).
Result<std::vector<std::string>> vifs_from_xl(Txn& t, const std::string& vm,
                                              const std::vector<XlVif>& specs);

// Generic field writes (set_<field>, add_to_/remove_from_ maps, add_/remove_ sets), with the
// per-field rules (MTU range, name lengths…). `value` is already coerced to the field's type.
Status set_field(Txn& t, const std::string& uuid, const std::string& field, const json& value);

}  // namespace hvnet::model
