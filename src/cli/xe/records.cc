#include "cli/xe/records.h"

#include "model/schema.h"

namespace hvnet::xe {

namespace {

using L = Label;

XeField f(std::string name, Label l, std::string wire) {
  return XeField{std::move(name), l, std::move(wire), "", "", Show::kValue, "", false};
}
// A field of the object `via` (a reference field of this one, to class `cls`) names.
XeField via(std::string name, std::string via, std::string cls, std::string wire,
            Show show = Show::kValue) {
  return XeField{
      std::move(name), L::kRO, std::move(wire), std::move(via), std::move(cls), show, "", false};
}
// A rate in KiB/s from `<cls>.query_data_source(this.<via>, source)`.
XeField rate(std::string name, std::string via, std::string cls, std::string source) {
  return XeField{std::move(name),   L::kRO, "", std::move(via), std::move(cls), Show::kKbs,
                 std::move(source), false};
}
// An expensive field: what `<cls>.<message>(this object)` answers.
XeField answer(std::string name, std::string cls, std::string message) {
  return XeField{std::move(name),    L::kRO, "", "", std::move(cls), Show::kCall,
                 std::move(message), false};
}
XeField hidden(XeField x) {
  x.hidden = true;
  return x;
}
XeField map_values(XeField x) {
  x.show = Show::kMapValues;
  return x;
}

// Classes whose layout is not XenServer's to follow (VM, task): the schema's fields in order.
XeRecord from_schema(const model::ClassSpec& c) {
  XeRecord r{c.name, c.xe, {}, c.list_columns};
  for (const auto& fs : c.fields) {
    const bool rw = fs.access == model::Access::kRW;
    const bool set =
        fs.type == model::FieldType::kRefSet || fs.type == model::FieldType::kStringSet;
    const bool map = fs.type == model::FieldType::kStringMap;
    r.fields.push_back(f(fs.xe,
                         set   ? (rw ? L::kSRW : L::kSRO)
                         : map ? (rw ? L::kMRW : L::kMRO)
                               : (rw ? L::kRW : L::kRO),
                         fs.wire));
  }
  return r;
}

std::vector<XeRecord> build() {
  std::vector<XeRecord> out;
  // For host and pool: the fields of XenServer's layout that hvnet has, in its order.
  out.push_back(
      {"pool",
       "pool",
       {f("uuid", L::kRO, "uuid"), f("name-label", L::kRW, "name_label"),
        f("name-description", L::kRW, "name_description"), f("master", L::kRO, "master"),
        f("default-SR", L::kRW, "default_SR"), f("crash-dump-SR", L::kRW, "crash_dump_SR"),
        f("suspend-image-SR", L::kRW, "suspend_image_SR"),
        f("other-config", L::kMRW, "other_config"),
        f("allowed-operations", L::kSRO, "allowed_operations"),
        map_values(f("current-operations", L::kSRO, "current_operations")),
        f("ha-enabled", L::kRO, "ha_enabled"), f("ha-configuration", L::kRO, "ha_configuration"),
        f("gui-config", L::kMRW, "gui_config"),
        hidden(f("vswitch-controller", L::kRO, "vswitch_controller")),
        f("restrictions", L::kRO, "restrictions"), f("tags", L::kSRW, "tags"),
        f("cpu_info", L::kMRO, "cpu_info")},
       {"uuid", "name-label", "name-description", "master", "default-SR"}});
  out.push_back(
      {"host",
       "host",
       {f("uuid", L::kRO, "uuid"), f("name-label", L::kRW, "name_label"),
        f("name-description", L::kRW, "name_description"),
        f("allowed-operations", L::kSRO, "allowed_operations"),
        map_values(f("current-operations", L::kSRO, "current_operations")),
        f("enabled", L::kRO, "enabled"), f("API-version-major", L::kRO, "API_version_major"),
        f("API-version-minor", L::kRO, "API_version_minor"),
        f("API-version-vendor", L::kRO, "API_version_vendor"),
        f("API-version-vendor-implementation", L::kMRO, "API_version_vendor_implementation"),
        f("software-version", L::kMRO, "software_version"),
        f("capabilities", L::kSRO, "capabilities"), f("other-config", L::kMRW, "other_config"),
        f("cpu_info", L::kMRO, "cpu_info"), f("hostname", L::kRO, "hostname"),
        f("address", L::kRO, "address"), f("https-only", L::kRW, "https_only"),
        f("tags", L::kSRW, "tags"), f("resident-vms", L::kSRO, "resident_VMs"),
        hidden(f("PIF-uuids", L::kSRO, "PIFs")),
        // hvnet: whether every required network is here, with carrier
        hidden(f("network-state", L::kRO, "network_state")),
        hidden(f("missing-networks", L::kSRO, "missing_networks"))},
       {"uuid", "name-label", "name-description"}});
  out.push_back(
      {"network",
       "network",
       {f("uuid", L::kRO, "uuid"), f("name-label", L::kRW, "name_label"),
        f("name-description", L::kRW, "name_description"), f("VIF-uuids", L::kSRO, "VIFs"),
        f("PIF-uuids", L::kSRO, "PIFs"), f("MTU", L::kRW, "MTU"), f("bridge", L::kRO, "bridge"),
        f("managed", L::kRO, "managed"), f("other-config", L::kMRW, "other_config"),
        f("blobs", L::kRO, "blobs"), f("tags", L::kSRW, "tags"),
        f("default-locking-mode", L::kRW, "default_locking_mode"), f("purpose", L::kSRW, "purpose"),
        // hvnet: VTEPs outside the pool on the network's tunnels (param-get/-add/-remove)
        hidden(f("external-VTEPs", L::kSRW, "external_VTEPs")),
        // hvnet: guest VLAN tagging (a network on VLAN 4095 of an uplink)
        hidden(f("trunk-VLANs", L::kSRW, "trunk_VLANs")),
        hidden(f("native-VLAN", L::kRW, "native_VLAN")),
        // hvnet: the security policy of its VIFs (reject/accept)
        hidden(f("promiscuous-mode", L::kRW, "promiscuous_mode")),
        hidden(f("MAC-changes", L::kRW, "MAC_changes")),
        hidden(f("forged-transmits", L::kRW, "forged_transmits")),
        // hvnet: traffic shaping of its VIFs (kilobytes/s, kilobytes)
        hidden(f("shaping-average", L::kRW, "shaping_average")),
        hidden(f("shaping-peak", L::kRW, "shaping_peak")),
        hidden(f("shaping-burst", L::kRW, "shaping_burst")),
        // hvnet: the network's failover order on a bond (member devices)
        hidden(f("failover-order", L::kRW, "failover_order")),
        // hvnet: RHV's logical network: roles, VM network or not, required, NIC label
        hidden(f("roles", L::kSRW, "roles")), hidden(f("VM-network", L::kRW, "VM_network")),
        hidden(f("required", L::kRW, "required")), hidden(f("label", L::kRW, "label")),
        hidden(f("label-VLAN", L::kRW, "label_VLAN")),
        // hvnet: classic Xen's network mode (bridge, route, nat), its subnet and NAT forwards
        hidden(f("mode", L::kRW, "mode")), hidden(f("subnet", L::kRW, "subnet")),
        hidden(f("port-forwards", L::kSRW, "port_forwards"))},
       {"uuid", "name-label", "name-description", "bridge", "mode"}});
  out.push_back(
      {"PIF",
       "pif",
       {f("uuid", L::kRO, "uuid"), f("device", L::kRO, "device"), f("MAC", L::kRO, "MAC"),
        f("physical", L::kRO, "physical"), f("managed", L::kRO, "managed"),
        f("currently-attached", L::kRO, "currently_attached"), f("MTU", L::kRO, "MTU"),
        f("VLAN", L::kRO, "VLAN"), f("vlan-master-of", L::kRO, "VLAN_master_of"),
        f("vlan-slave-of", L::kRO, "VLAN_slave_of"), f("bond-master-of", L::kRO, "bond_master_of"),
        f("bond-slave-of", L::kRO, "bond_slave_of"),
        f("sriov-physical-PIF-of", L::kRO, "sriov_physical_PIF_of"),
        f("sriov-logical-PIF-of", L::kRO, "sriov_logical_PIF_of"),
        f("tunnel-access-PIF-of", L::kRO, "tunnel_access_PIF_of"),
        f("tunnel-transport-PIF-of", L::kRO, "tunnel_transport_PIF_of"),
        f("management", L::kRO, "management"), f("network-uuid", L::kRO, "network"),
        via("network-name-label", "network", "network", "name_label"),
        f("host-uuid", L::kRO, "host"), via("host-name-label", "host", "host", "name_label"),
        f("IP-configuration-mode", L::kRO, "ip_configuration_mode"), f("IP", L::kRO, "IP"),
        f("netmask", L::kRO, "netmask"), f("gateway", L::kRO, "gateway"),
        f("IPv6-configuration-mode", L::kRO, "ipv6_configuration_mode"), f("IPv6", L::kRO, "IPv6"),
        f("IPv6-gateway", L::kRO, "ipv6_gateway"),
        f("primary-address-type", L::kRO, "primary_address_type"), f("DNS", L::kRO, "DNS"),
        f("properties", L::kMRO, "properties"), f("capabilities", L::kSRO, "capabilities"),
        rate("io_read_kbs", "host", "host", "pif_{device}_rx"),
        rate("io_write_kbs", "host", "host", "pif_{device}_tx"),
        via("carrier", "metrics", "PIF_metrics", "carrier"),
        via("vendor-id", "metrics", "PIF_metrics", "vendor_id"),
        via("vendor-name", "metrics", "PIF_metrics", "vendor_name"),
        via("device-id", "metrics", "PIF_metrics", "device_id"),
        via("device-name", "metrics", "PIF_metrics", "device_name"),
        via("speed", "metrics", "PIF_metrics", "speed", Show::kMbits),
        via("duplex", "metrics", "PIF_metrics", "duplex", Show::kDuplex),
        f("disallow-unplug", L::kRW, "disallow_unplug"),
        via("pci-bus-path", "metrics", "PIF_metrics", "pci_bus_path"),
        f("other-config", L::kMRW, "other_config"),
        f("igmp-snooping-status", L::kRO, "igmp_snooping_status"),
        // hvnet: the services of this host interface and the NIC's labels
        hidden(f("services", L::kSRW, "services")), hidden(f("labels", L::kSRW, "labels")),
        hidden(f("sriov-totalvfs", L::kRO, "sriov_totalvfs")),
        hidden(f("PCI-id", L::kRO, "PCI_id"))},
       {"uuid", "device", "MAC", "currently-attached", "VLAN", "network-uuid", "host-uuid"}});
  out.push_back({"VIF",
                 "vif",
                 {f("uuid", L::kRO, "uuid"),
                  f("vm-uuid", L::kRO, "VM"),
                  via("vm-name-label", "VM", "VM", "name_label"),
                  f("allowed-operations", L::kSRO, "allowed_operations"),
                  map_values(f("current-operations", L::kSRO, "current_operations")),
                  f("device", L::kRO, "device"),
                  f("MAC", L::kRO, "MAC"),
                  f("MAC-autogenerated", L::kRO, "MAC_autogenerated"),
                  f("MTU", L::kRO, "MTU"),
                  f("currently-attached", L::kRO, "currently_attached"),
                  f("qos_algorithm_type", L::kRW, "qos_algorithm_type"),
                  f("qos_algorithm_params", L::kMRW, "qos_algorithm_params"),
                  f("qos_supported_algorithms", L::kSRO, "qos_supported_algorithms"),
                  f("other-config", L::kMRW, "other_config"),
                  f("network-uuid", L::kRO, "network"),
                  via("network-name-label", "network", "network", "name_label"),
                  rate("io_read_kbs", "VM", "VM", "vif_{device}_rx"),
                  rate("io_write_kbs", "VM", "VM", "vif_{device}_tx"),
                  f("locking-mode", L::kRW, "locking_mode"),
                  f("ipv4-allowed", L::kSRW, "ipv4_allowed"),
                  f("ipv6-allowed", L::kSRW, "ipv6_allowed"),
                  f("ipv4-configuration-mode", L::kRO, "ipv4_configuration_mode"),
                  f("ipv4-addresses", L::kRO, "ipv4_addresses"),
                  f("ipv4-gateway", L::kRO, "ipv4_gateway"),
                  f("ipv6-configuration-mode", L::kRO, "ipv6_configuration_mode"),
                  f("ipv6-addresses", L::kRO, "ipv6_addresses"),
                  f("ipv6-gateway", L::kRO, "ipv6_gateway"),
                  hidden(f("vifname", L::kRO, "vifname")),
                  hidden(f("sriov-VF", L::kRO, "sriov_VF"))},
                 {"uuid", "device", "vm-uuid", "network-uuid"}});
  out.push_back(
      {"Bond",
       "bond",
       {f("uuid", L::kRO, "uuid"), f("master", L::kRO, "master"), f("slaves", L::kRO, "slaves"),
        f("mode", L::kRO, "mode"), f("properties", L::kMRO, "properties"),
        f("primary-slave", L::kRO, "primary_slave"), f("links-up", L::kRO, "links_up"),
        f("auto-update-mac", L::kRO, "auto_update_mac"),
        // hvnet: the data plane's live view of the bond (active member, LACP…)
        hidden(f("status", L::kMRO, "status")), hidden(f("other-config", L::kMRW, "other_config"))},
       {"uuid", "master", "slaves"}});
  out.push_back({"VLAN",
                 "vlan",
                 {f("uuid", L::kRO, "uuid"), f("tagged-PIF", L::kRO, "tagged_PIF"),
                  f("untagged-PIF", L::kRO, "untagged_PIF"), f("tag", L::kRO, "tag"),
                  hidden(f("other-config", L::kMRW, "other_config"))},
                 {"uuid", "tagged-PIF", "untagged-PIF", "tag"}});
  out.push_back(
      {"network_sriov",
       "network-sriov",
       {f("uuid", L::kRO, "uuid"), f("physical-PIF", L::kRO, "physical_PIF"),
        f("logical-PIF", L::kRO, "logical_PIF"), f("requires-reboot", L::kRO, "requires_reboot"),
        answer("remaining-capacity", "network_sriov", "get_remaining_capacity"),
        hidden(f("configuration-mode", L::kRO, "configuration_mode"))},
       {"uuid", "physical-PIF", "logical-PIF", "requires-reboot"}});
  // API users and roles; a subject's roles show as the roles' names, as XenServer's xe prints them.
  XeField roles = f("roles", L::kSRO, "roles");
  roles.via_class = "role";
  roles.show = Show::kRefNames;
  out.push_back({"subject",
                 "subject",
                 {f("uuid", L::kRO, "uuid"), f("subject-identifier", L::kRO, "subject_identifier"),
                  f("other-config", L::kMRO, "other_config"), roles},
                 {"uuid", "subject-identifier", "other-config", "roles"}});
  out.push_back({"role",
                 "role",
                 {f("uuid", L::kRO, "uuid"), f("name", L::kRO, "name_label"),
                  f("description", L::kRO, "name_description")},
                 {"uuid", "name", "description"}});
  for (const auto& c : model::all_classes()) {
    bool have = false;
    for (const auto& r : out) have |= r.cls == c.name;
    if (!have) out.push_back(from_schema(c));
  }
  return out;
}

}  // namespace

const char* label_text(Label l) {
  switch (l) {
    case L::kRO:
      return "( RO)";
    case L::kRW:
      return "( RW)";
    case L::kSRO:
      return "(SRO)";
    case L::kSRW:
      return "(SRW)";
    case L::kMRO:
      return "(MRO)";
    case L::kMRW:
      return "(MRW)";
  }
  return "";
}

bool settable(Label l) {
  return l == L::kRW || l == L::kSRW || l == L::kMRW;
}

const XeField* XeRecord::field(std::string_view name) const {
  for (const auto& x : fields)
    if (x.name == name) return &x;
  // xe also accepts the API spelling with dashes (name-label, other-config…)
  for (const auto& x : fields)
    if (!x.wire.empty() && x.via.empty() && (model::dashed(x.wire) == name || x.wire == name))
      return &x;
  return nullptr;
}

const std::vector<XeRecord>& xe_records() {
  static const std::vector<XeRecord> records = build();
  return records;
}

const XeRecord* xe_record(std::string_view xe_prefix) {
  for (const auto& r : xe_records())
    if (r.xe == xe_prefix) return &r;
  return nullptr;
}

}  // namespace hvnet::xe
