#include "model/schema.h"

namespace hvnet::model {

namespace {

using T = FieldType;
using A = Access;

FieldSpec f(std::string wire, std::string xe, T t, A a, std::string ref = "",
            bool derived = false) {
  return FieldSpec{std::move(wire), std::move(xe), t, a, std::move(ref), derived, {}, {}};
}
// A field a role other than the class's may write; `keys`: map keys yet another role may write.
FieldSpec w(FieldSpec fs, Role r, std::vector<std::pair<std::string, Role>> keys = {}) {
  fs.writer = r;
  fs.key_writers = std::move(keys);
  return fs;
}
// XenCenter's folder and custom-field keys, which vm-operators may write on most classes.
std::vector<std::pair<std::string, Role>> gui_keys(std::vector<std::string> more = {}) {
  std::vector<std::pair<std::string, Role>> k = {{"folder", Role::kVmOperator},
                                                 {"XenCenter.CustomFields.*", Role::kVmOperator}};
  for (auto& m : more) k.emplace_back(std::move(m), Role::kVmOperator);
  return k;
}

std::vector<ClassSpec> build() {
  std::vector<ClassSpec> c;
  // A standalone host is a pool of one: the pool record exists from the first start.
  c.push_back({"pool",
               "pool",
               {f("uuid", "uuid", T::kString, A::kRO),
                f("name_label", "name-label", T::kString, A::kRW),
                f("name_description", "name-description", T::kString, A::kRW),
                f("master", "master", T::kRef, A::kRO, "host"),
                f("default_SR", "default-SR", T::kRef, A::kRW, "SR"),
                f("suspend_image_SR", "suspend-image-SR", T::kRef, A::kRW, "SR"),
                f("crash_dump_SR", "crash-dump-SR", T::kRef, A::kRW, "SR"),
                f("ha_enabled", "ha-enabled", T::kBool, A::kRO),
                f("ha_configuration", "ha-configuration", T::kStringMap, A::kRO),
                w(f("other_config", "other-config", T::kStringMap, A::kRW), Role::kPoolOperator,
                  gui_keys({"EMPTY_FOLDERS"})),
                w(f("gui_config", "gui-config", T::kStringMap, A::kRW), Role::kVmOperator),
                w(f("tags", "tags", T::kStringSet, A::kRW), Role::kVmOperator),
                f("restrictions", "restrictions", T::kStringMap, A::kRO),
                f("cpu_info", "cpu-info", T::kStringMap, A::kRO),
                f("allowed_operations", "allowed-operations", T::kStringSet, A::kRO),
                f("current_operations", "current-operations", T::kStringMap, A::kRO),
                f("vswitch_controller", "vswitch-controller", T::kString, A::kRO),
                f("wlb_enabled", "wlb-enabled", T::kBool, A::kRO),
                f("redo_log_enabled", "redo-log-enabled", T::kBool, A::kRO),
                f("igmp_snooping_enabled", "igmp-snooping-enabled", T::kBool, A::kRO),
                f("management_network", "management-network", T::kRef, A::kRO, "network")},
               {"uuid", "name-label", "name-description", "master", "default-SR"}});
  c.back().writers = Role::kPoolOperator;
  c.push_back(
      {"host",
       "host",
       {f("uuid", "uuid", T::kString, A::kRO), f("name_label", "name-label", T::kString, A::kRW),
        f("name_description", "name-description", T::kString, A::kRW),
        f("hostname", "hostname", T::kString, A::kRO), f("address", "address", T::kString, A::kRO),
        f("enabled", "enabled", T::kBool, A::kRO),
        f("API_version_major", "API-version-major", T::kInt, A::kRO),
        f("API_version_minor", "API-version-minor", T::kInt, A::kRO),
        f("API_version_vendor", "API-version-vendor", T::kString, A::kRO),
        f("API_version_vendor_implementation", "API-version-vendor-implementation", T::kStringMap,
          A::kRO),
        f("software_version", "software-version", T::kStringMap, A::kRO),
        f("capabilities", "capabilities", T::kStringSet, A::kRO),
        f("cpu_info", "cpu_info", T::kStringMap, A::kRO),
        f("allowed_operations", "allowed-operations", T::kStringSet, A::kRO),
        f("current_operations", "current-operations", T::kStringMap, A::kRO),
        f("PIFs", "PIF-uuids", T::kRefSet, A::kRO, "PIF", true),
        f("resident_VMs", "resident-vms", T::kRefSet, A::kRO, "VM", true),
        w(f("other_config", "other-config", T::kStringMap, A::kRW), Role::kPoolOperator,
          gui_keys()),
        w(f("tags", "tags", T::kStringSet, A::kRW), Role::kVmOperator),
        f("https_only", "https-only", T::kBool, A::kRO),
        // hvnet: whether the host has every required network, carrier up ("operational"
        // or "non-operational", RHV's host state) and the networks it lacks; kept by the
        // host's hvnetd
        f("network_state", "network-state", T::kString, A::kRO),
        f("missing_networks", "missing-networks", T::kRefSet, A::kRO, "network")},
       {"uuid", "name-label", "name-description"}});
  c.back().writers = Role::kPoolOperator;
  c.push_back(
      {"network",
       "network",
       {f("uuid", "uuid", T::kString, A::kRO),
        w(f("name_label", "name-label", T::kString, A::kRW), Role::kPoolOperator),
        w(f("name_description", "name-description", T::kString, A::kRW), Role::kPoolOperator),
        f("MTU", "MTU", T::kInt, A::kRW), f("bridge", "bridge", T::kString, A::kSRO),
        f("managed", "managed", T::kBool, A::kSRO),
        f("PIFs", "PIF-uuids", T::kRefSet, A::kRO, "PIF", true),
        f("VIFs", "VIF-uuids", T::kRefSet, A::kRO, "VIF", true),
        w(f("other_config", "other-config", T::kStringMap, A::kRW), Role::kPoolOperator,
          gui_keys({"XenCenterCreateInProgress"})),
        w(f("tags", "tags", T::kStringSet, A::kRW), Role::kVmOperator),
        f("default_locking_mode", "default-locking-mode", T::kString, A::kRO),
        f("purpose", "purpose", T::kStringSet, A::kRO),
        f("allowed_operations", "allowed-operations", T::kStringSet, A::kRO, "", true),
        f("current_operations", "current-operations", T::kStringMap, A::kRO, "", true),
        f("blobs", "blobs", T::kStringMap, A::kRO),
        f("assigned_ips", "assigned-ips", T::kStringMap, A::kRO, "", true),
        // hvnet: VTEPs outside the pool (IPv4) that the network's tunnels also reach
        w(f("external_VTEPs", "external-VTEPs", T::kStringSet, A::kRW), Role::kPoolOperator),
        // hvnet, guest VLAN tagging (a network on VLAN 4095 of an uplink): the tags its VIFs may
        // send ("10", "20-29"; empty: every VLAN) and the VLAN of their untagged frames (0: the
        // uplink's own network)
        w(f("trunk_VLANs", "trunk-VLANs", T::kStringSet, A::kRW), Role::kPoolOperator),
        w(f("native_VLAN", "native-VLAN", T::kInt, A::kRW), Role::kPoolOperator),
        // hvnet, security policy of its VIFs (vSphere's): "reject" or "accept"
        w(f("promiscuous_mode", "promiscuous-mode", T::kString, A::kRW), Role::kPoolOperator),
        w(f("MAC_changes", "MAC-changes", T::kString, A::kRW), Role::kPoolOperator),
        w(f("forged_transmits", "forged-transmits", T::kString, A::kRW), Role::kPoolOperator),
        // hvnet, traffic shaping of each of its VIFs' transmit: average and peak in kilobytes/s
        // (XenServer's kbps), burst in kilobytes; average 0: none
        w(f("shaping_average", "shaping-average", T::kInt, A::kRW), Role::kPoolOperator),
        w(f("shaping_peak", "shaping-peak", T::kInt, A::kRW), Role::kPoolOperator),
        w(f("shaping_burst", "shaping-burst", T::kInt, A::kRW), Role::kPoolOperator),
        // hvnet, teaming override on a bond (vSphere's explicit failover order): bond member
        // devices, "eth1,eth0": the first that is up carries the network; others never do
        w(f("failover_order", "failover-order", T::kString, A::kRW), Role::kPoolOperator),
        // hvnet, RHV's logical network ideas: roles (host services, model/services.h; at most
        // one network per role in the pool), VM network or not (a non-VM network takes no VIFs
        // and, on a plain NIC, has no switch in its path), required on every host, and the NIC
        // label attaching it (on VLAN label_VLAN) to every NIC carrying that label
        w(f("roles", "roles", T::kStringSet, A::kRW), Role::kPoolOperator),
        w(f("VM_network", "VM-network", T::kBool, A::kRW), Role::kPoolOperator),
        w(f("required", "required", T::kBool, A::kRW), Role::kPoolOperator),
        w(f("label", "label", T::kString, A::kRW), Role::kPoolOperator),
        w(f("label_VLAN", "label-VLAN", T::kInt, A::kRW), Role::kPoolOperator),
        // hvnet, classic Xen's network modes: "bridge" (the default: a switched L2 network),
        // "route" (each VM's addresses routed by the host, as vif-route) or "nat" (a private
        // subnet behind the host, with DHCP, as vif-nat and libvirt's default network); the
        // host's gateway address/prefix on it, and the NAT's port forwards
        // ("tcp:8080=192.168.122.10:80")
        w(f("mode", "mode", T::kString, A::kRW), Role::kPoolOperator),
        w(f("subnet", "subnet", T::kString, A::kRW), Role::kPoolOperator),
        w(f("port_forwards", "port-forwards", T::kStringSet, A::kRW), Role::kPoolOperator)},
       {"uuid", "name-label", "name-description", "bridge"}});
  c.back().writers = Role::kVmAdmin;  // VM admins create and destroy networks without PIFs
  c.push_back(
      {"PIF",
       "pif",
       {f("uuid", "uuid", T::kString, A::kRO), f("device", "device", T::kString, A::kRO),
        f("MAC", "MAC", T::kString, A::kRO), f("physical", "physical", T::kBool, A::kRO),
        f("managed", "managed", T::kBool, A::kRO),
        f("currently_attached", "currently-attached", T::kBool, A::kRO),
        f("MTU", "MTU", T::kInt, A::kRO), f("VLAN", "VLAN", T::kInt, A::kRO),
        f("network", "network-uuid", T::kRef, A::kRO, "network"),
        f("host", "host-uuid", T::kRef, A::kRO, "host"),
        f("management", "management", T::kBool, A::kRO),
        f("disallow_unplug", "disallow-unplug", T::kBool, A::kRW),
        f("ip_configuration_mode", "IP-configuration-mode", T::kString, A::kRO),
        f("IP", "IP", T::kString, A::kRO), f("netmask", "netmask", T::kString, A::kRO),
        f("gateway", "gateway", T::kString, A::kRO), f("DNS", "DNS", T::kString, A::kRO),
        f("ipv6_configuration_mode", "IPv6-configuration-mode", T::kString, A::kRO),
        f("IPv6", "IPv6", T::kStringSet, A::kRO),
        f("ipv6_gateway", "IPv6-gateway", T::kString, A::kRO),
        f("primary_address_type", "primary-address-type", T::kString, A::kRO),
        f("bond_slave_of", "bond-slave-of", T::kRef, A::kRO, "Bond"),
        f("bond_master_of", "bond-master-of", T::kRefSet, A::kRO, "Bond", true),
        f("VLAN_master_of", "VLAN-master-of", T::kRef, A::kRO, "VLAN"),
        f("VLAN_slave_of", "VLAN-slave-of", T::kRefSet, A::kRO, "VLAN", true),
        f("other_config", "other-config", T::kStringMap, A::kRW),
        f("properties", "properties", T::kStringMap, A::kRO),
        f("capabilities", "capabilities", T::kStringSet, A::kRO),
        f("metrics", "metrics", T::kRef, A::kRO, "PIF_metrics", true),
        f("tunnel_access_PIF_of", "tunnel-access-PIF-of", T::kRefSet, A::kRO, "tunnel", true),
        f("tunnel_transport_PIF_of", "tunnel-transport-PIF-of", T::kRefSet, A::kRO, "tunnel", true),
        f("sriov_physical_PIF_of", "sriov-physical-PIF-of", T::kRefSet, A::kRO, "network_sriov",
          true),
        f("sriov_logical_PIF_of", "sriov-logical-PIF-of", T::kRefSet, A::kRO, "network_sriov",
          true),
        f("igmp_snooping_status", "igmp-snooping-status", T::kString, A::kRO, "", true),
        f("PCI", "PCI", T::kRef, A::kRO, "PCI", true),
        // hvnet: the services of this host interface (vSphere's VMkernel services,
        // model/services.h; "management" is PIF.management) and the NIC labels networks attach by
        f("services", "services", T::kStringSet, A::kRW),
        f("labels", "labels", T::kStringSet, A::kRW),
        // hvnet, from the scan of a NIC: the VFs its device can give (sysfs sriov_totalvfs; 0
        // none) and its PCI vendor:device ids (SR-IOV PIFs of one network share them)
        f("sriov_totalvfs", "sriov-totalvfs", T::kInt, A::kRO),
        f("PCI_id", "PCI-id", T::kString, A::kRO)},
       {"uuid", "device", "MAC", "currently-attached", "VLAN", "network-uuid", "host-uuid"}});
  c.back().writers = Role::kPoolOperator;
  c.push_back({"VIF",
               "vif",
               {f("uuid", "uuid", T::kString, A::kRO), f("device", "device", T::kString, A::kSRO),
                f("VM", "vm-uuid", T::kRef, A::kSRO, "VM"),
                f("network", "network-uuid", T::kRef, A::kSRO, "network"),
                f("MAC", "MAC", T::kString, A::kSRO), f("MTU", "MTU", T::kInt, A::kRO),
                f("currently_attached", "currently-attached", T::kBool, A::kRO),
                f("MAC_autogenerated", "MAC-autogenerated", T::kBool, A::kRO),
                f("locking_mode", "locking-mode", T::kString, A::kRO),
                f("ipv4_allowed", "ipv4-allowed", T::kStringSet, A::kRO),
                f("ipv6_allowed", "ipv6-allowed", T::kStringSet, A::kRO),
                f("other_config", "other-config", T::kStringMap, A::kRW),
                f("qos_algorithm_type", "qos_algorithm_type", T::kString, A::kRW),
                f("qos_algorithm_params", "qos_algorithm_params", T::kStringMap, A::kRW),
                f("qos_supported_algorithms", "qos_supported_algorithms", T::kStringSet, A::kRO),
                f("allowed_operations", "allowed-operations", T::kStringSet, A::kRO, "", true),
                f("current_operations", "current-operations", T::kStringMap, A::kRO, "", true),
                f("status_code", "status-code", T::kInt, A::kRO),
                f("status_detail", "status-detail", T::kString, A::kRO),
                f("runtime_properties", "runtime-properties", T::kStringMap, A::kRO),
                f("metrics", "metrics", T::kRef, A::kRO, "VIF_metrics", true),
                f("ipv4_configuration_mode", "ipv4-configuration-mode", T::kString, A::kRO),
                f("ipv4_addresses", "ipv4-addresses", T::kStringSet, A::kRO),
                f("ipv4_gateway", "ipv4-gateway", T::kString, A::kRO),
                f("ipv6_configuration_mode", "ipv6-configuration-mode", T::kString, A::kRO),
                f("ipv6_addresses", "ipv6-addresses", T::kStringSet, A::kRO),
                f("ipv6_gateway", "ipv6-gateway", T::kString, A::kRO),
                // hvnet: the host-side device's name (xl's vifname; "" = vif<domid>.<device>)
                f("vifname", "vifname", T::kString, A::kSRO),
                // hvnet: on an SR-IOV network, the VF of its host's NIC it holds while attached
                // (-1: none), as xapi's reserved_pci
                f("sriov_VF", "sriov-VF", T::kInt, A::kRO)},
               {"uuid", "device", "vm-uuid", "network-uuid"}});
  c.back().writers = Role::kVmAdmin;
  c.push_back(
      {"VLAN",
       "vlan",
       {f("uuid", "uuid", T::kString, A::kRO),
        f("tagged_PIF", "tagged-PIF", T::kRef, A::kRO, "PIF"),
        f("untagged_PIF", "untagged-PIF", T::kRef, A::kRO, "PIF"), f("tag", "tag", T::kInt, A::kRO),
        f("other_config", "other-config", T::kStringMap, A::kRW)},
       {"uuid", "tagged-PIF", "untagged-PIF", "tag"}});
  c.back().writers = Role::kPoolOperator;
  c.push_back(
      {"Bond",
       "bond",
       {f("uuid", "uuid", T::kString, A::kRO), f("master", "master", T::kRef, A::kRO, "PIF"),
        f("slaves", "slaves", T::kRefSet, A::kRO, "PIF", true),
        f("primary_slave", "primary-slave", T::kRef, A::kRO, "PIF"),
        f("mode", "mode", T::kString, A::kRO), f("properties", "properties", T::kStringMap, A::kRO),
        f("links_up", "links-up", T::kInt, A::kRO),
        f("auto_update_mac", "auto-update-mac", T::kBool, A::kRO),
        // hvnet: live state from the data plane (active member, LACP per member, counters)
        f("status", "status", T::kStringMap, A::kRO, "", true),
        f("other_config", "other-config", T::kStringMap, A::kRW)},
       {"uuid", "master", "slaves"}});
  c.back().writers = Role::kPoolOperator;
  // A host's end of a private network across hosts: its access PIF (device tunnelN) puts the
  // network on the host, its transport PIF carries the encapsulated frames. hvnet is its own
  // controller: status holds the network's key (the VNI or GRE key, one per network in the pool)
  // with "active" and, when inactive, "error" computed from the model.
  c.push_back({"tunnel",
               "tunnel",
               {f("uuid", "uuid", T::kString, A::kRO),
                f("access_PIF", "access-PIF", T::kRef, A::kRO, "PIF"),
                f("transport_PIF", "transport-PIF", T::kRef, A::kRO, "PIF"),
                f("status", "status", T::kStringMap, A::kRO),
                f("other_config", "other-config", T::kStringMap, A::kRW),
                f("protocol", "protocol", T::kString, A::kRO)},
               {"uuid", "access-PIF", "transport-PIF", "status", "protocol"}});
  c.back().writers = Role::kPoolOperator;
  // SR-IOV on a NIC (network_sriov): the NIC's physical PIF and the logical PIF (same device,
  // MAC fe:ff:ff:ff:ff:ff) that puts the network of its VFs on the host; how the VFs were
  // enabled (sysfs, modprobe, manual; unknown until plugged) and whether that waits for a reboot.
  c.push_back({"network_sriov",
               "network-sriov",
               {f("uuid", "uuid", T::kString, A::kRO),
                f("physical_PIF", "physical-PIF", T::kRef, A::kRO, "PIF"),
                f("logical_PIF", "logical-PIF", T::kRef, A::kRO, "PIF"),
                f("requires_reboot", "requires-reboot", T::kBool, A::kRO),
                f("configuration_mode", "configuration-mode", T::kString, A::kRO)},
               {"uuid", "physical-PIF", "logical-PIF"}});
  c.back().writers = Role::kPoolOperator;
  // hvnet: a port mirroring session (the distributed switch's SPAN/RSPAN): copies of the frames
  // its sources (VIFs or PIFs, by uuid) receive (ingress) and are sent (egress) go to a
  // destination VIF, which then carries nothing else, or out of a PIF on destination_VLAN (0:
  // untagged). status: the copies sent (packets, bytes), live.
  c.push_back(
      {"port_mirror",
       "port-mirror",
       {f("uuid", "uuid", T::kString, A::kRO), f("name_label", "name-label", T::kString, A::kRW),
        f("name_description", "name-description", T::kString, A::kRW),
        f("ingress_sources", "ingress-sources", T::kStringSet, A::kRW),
        f("egress_sources", "egress-sources", T::kStringSet, A::kRW),
        f("destination_VIF", "destination-VIF", T::kRef, A::kSRO, "VIF"),
        f("destination_PIF", "destination-PIF", T::kRef, A::kSRO, "PIF"),
        f("destination_VLAN", "destination-VLAN", T::kInt, A::kSRO),
        f("status", "status", T::kStringMap, A::kRO, "", true),
        f("other_config", "other-config", T::kStringMap, A::kRW)},
       {"uuid", "name-label", "destination-VIF", "destination-PIF"}});
  c.back().writers = Role::kPoolOperator;
  c.push_back(
      {"VM",
       "vm",
       {f("uuid", "uuid", T::kString, A::kRO), f("name_label", "name-label", T::kString, A::kRW),
        f("name_description", "name-description", T::kString, A::kRW),
        f("power_state", "power-state", T::kString, A::kRO), f("domid", "dom-id", T::kInt, A::kRO),
        f("is_a_template", "is-a-template", T::kBool, A::kRO),
        f("VIFs", "VIF-uuids", T::kRefSet, A::kRO, "VIF", true),
        f("resident_on", "resident-on", T::kRef, A::kRO, "host"),
        f("allowed_operations", "allowed-operations", T::kStringSet, A::kRO, "", true),
        w(f("other_config", "other-config", T::kStringMap, A::kRW), Role::kVmAdmin,
          [] {
            auto keys = gui_keys();
            keys.emplace_back("pci", Role::kPoolAdmin);  // passthrough: host devices
            keys.emplace_back("hvm_serial", Role::kPoolAdmin);
            return keys;
          }())},
       {"uuid", "name-label", "power-state"}});
  c.back().writers = Role::kVmAdmin;
  // API users: a system account (u<uid>) or group (g<gid>) and the roles it has. Written by
  // subject.create / add_to_roles / remove_from_roles; other_config is filled from the system.
  c.push_back({"subject",
               "subject",
               {f("uuid", "uuid", T::kString, A::kRO),
                f("subject_identifier", "subject-identifier", T::kString, A::kSRO),
                f("other_config", "other-config", T::kStringMap, A::kSRO),
                f("roles", "roles", T::kRefSet, A::kRO, "role")},
               {"uuid", "subject-identifier", "other-config", "roles"}});
  // The fixed roles (model/roles.h), served from memory by the API.
  c.push_back({"role",
               "role",
               {f("uuid", "uuid", T::kString, A::kRO), f("name_label", "name", T::kString, A::kRO),
                f("name_description", "description", T::kString, A::kRO),
                f("subroles", "subroles", T::kRefSet, A::kRO, "role"),
                f("is_internal", "is-internal", T::kBool, A::kRO)},
               {"uuid", "name", "description"},
               /*memory=*/true});
  // Tasks: asynchronous calls (Async.<class>.<message>) and their outcome, in memory as in xapi.
  c.push_back(
      {"task",
       "task",
       {f("uuid", "uuid", T::kString, A::kRO), f("name_label", "name-label", T::kString, A::kRO),
        f("name_description", "name-description", T::kString, A::kRO),
        f("allowed_operations", "allowed-operations", T::kStringSet, A::kRO),
        f("current_operations", "current-operations", T::kStringMap, A::kRO),
        f("created", "created", T::kString, A::kRO), f("finished", "finished", T::kString, A::kRO),
        f("status", "status", T::kString, A::kRO),
        f("resident_on", "resident-on", T::kRef, A::kRO, "host"),
        f("progress", "progress", T::kString, A::kRO), f("type", "type", T::kString, A::kRO),
        f("result", "result", T::kString, A::kRO),
        f("error_info", "error-info", T::kStringSet, A::kRO),
        w(f("other_config", "other-config", T::kStringMap, A::kRW), Role::kPoolOperator,
          {{"XenCenterMeddlingActionTitle", Role::kVmOperator},
           {"XenCenterUUID", Role::kVmOperator},
           {"applies_to", Role::kVmOperator}}),
        f("subtask_of", "subtask-of", T::kRef, A::kRO, "task"),
        f("subtasks", "subtasks", T::kRefSet, A::kRO, "task"),
        f("backtrace", "backtrace", T::kString, A::kRO)},
       {"uuid", "name-label", "status", "progress"},
       /*memory=*/true});
  c.back().writers = Role::kPoolOperator;
  return c;
}

}  // namespace

const FieldSpec* ClassSpec::field(std::string_view wire) const {
  for (const auto& fs : fields)
    if (fs.wire == wire) return &fs;
  return nullptr;
}

const FieldSpec* ClassSpec::field_by_xe(std::string_view xe_name) const {
  for (const auto& fs : fields)
    if (fs.xe == xe_name) return &fs;
  // xe also accepts the wire spelling with dashes (name-label, other-config…)
  for (const auto& fs : fields) {
    if (dashed(fs.wire) == xe_name) return &fs;
  }
  return nullptr;
}

std::string dashed(std::string_view wire) {
  std::string out(wire);
  for (auto& ch : out)
    if (ch == '_') ch = '-';
  return out;
}

const std::vector<ClassSpec>& all_classes() {
  static const std::vector<ClassSpec> classes = build();
  return classes;
}

const ClassSpec* find_class(std::string_view wire_name) {
  for (const auto& c : all_classes())
    if (c.name == wire_name) return &c;
  return nullptr;
}

const ClassSpec* find_class_by_xe(std::string_view xe_prefix) {
  for (const auto& c : all_classes())
    if (c.xe == xe_prefix) return &c;
  return nullptr;
}

}  // namespace hvnet::model
