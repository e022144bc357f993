// Host interfaces and logical networks: services and roles (one per host, one per pool), VM and
// non-VM networks, NIC labels, required networks and the host state they give.
#include <gtest/gtest.h>

#include "control/host_addressing.h"
#include "control/reconciler.h"
#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {
namespace {

class HostInterfaceTest : public ::testing::Test {
 protected:
  HostInterfaceTest() : t(db) {
    host = ensure_host(t, "h1");
    pifs = pif_scan(t, host,
                    {{"eth0", "52:54:00:00:00:01", 1500},
                     {"eth1", "52:54:00:00:00:02", 1500},
                     {"eth2", "52:54:00:00:00:03", 1500}})
               .value();
    for (const auto& p : pifs) EXPECT_TRUE(pif_plug(t, p));
    EXPECT_TRUE(
        pif_reconfigure_ip(t, pifs[0], "Static", "10.0.0.2", "255.255.255.0", "10.0.0.1", ""));
    EXPECT_TRUE(host_management_reconfigure(t, pifs[0]));
    EXPECT_TRUE(
        pif_reconfigure_ip(t, pifs[1], "Static", "10.1.0.2", "255.255.255.0", "10.1.0.1", ""));
  }
  std::string code(const Status& s) { return s ? "OK" : s.error().code; }
  template <typename T>
  std::string code(const Result<T>& r) {
    return r ? "OK" : r.error().code;
  }
  std::vector<std::string> params(const Status& s) {
    return s ? std::vector<std::string>{} : s.error().params;
  }
  std::string net_of(const std::string& pif) { return t.get(pif)->rec["network"]; }
  std::string net(const char* label) { return network_create(t, {{"name_label", label}}).value(); }

  Database db;
  Txn t;
  std::string host;
  std::vector<std::string> pifs;
};

TEST_F(HostInterfaceTest, ServicesAreKnownNamesOnInterfacesWithAnAddressOncePerHost) {
  ASSERT_EQ(code(set_field(t, pifs[1], "services", json{"storage", "migration"})), "OK");
  EXPECT_EQ(t.get(pifs[1])->rec["services"], (json{"migration", "storage"}));
  // Management is PIF.management: shown on the management PIF, written only where it holds.
  EXPECT_EQ(full_record(t, pifs[0])["services"], json{"management"});
  EXPECT_EQ(code(set_field(t, pifs[0], "services", json{"management", "provisioning"})), "OK");
  EXPECT_EQ(full_record(t, pifs[0])["services"], (json{"management", "provisioning"}));
  auto st = set_field(t, pifs[1], "services", json{"management"});
  EXPECT_EQ(code(st), "INVALID_VALUE");
  st = set_field(t, pifs[1], "services", json{"vmotion"});
  EXPECT_EQ(code(st), "INVALID_VALUE");
  EXPECT_EQ(params(st), (std::vector<std::string>{"services", "vmotion"}));
  // No address, no services.
  st = set_field(t, pifs[2], "services", json{"replication"});
  EXPECT_EQ(code(st), "PIF_HAS_NO_NETWORK_CONFIGURATION");
  // One interface per service on a host.
  ASSERT_TRUE(pif_reconfigure_ip(t, pifs[2], "Static", "10.2.0.2", "255.255.255.0", "", ""));
  st = set_field(t, pifs[2], "services", json{"replication", "storage"});
  EXPECT_EQ(code(st), "HOST_SERVICE_ALREADY_ASSIGNED");
  EXPECT_EQ(params(st), (std::vector<std::string>{"storage", pifs[1]}));
  EXPECT_EQ(t.get(pifs[2])->rec["services"], json::array());  // nothing of it stayed
}

TEST_F(HostInterfaceTest, RolesAreOneNetworkEachAndTheServiceOfItsInterfaces) {
  const std::string storage = net_of(pifs[1]), other = net_of(pifs[2]);
  ASSERT_EQ(code(set_field(t, storage, "roles", json{"migration", "display"})), "OK");
  EXPECT_TRUE(pif_services(t, pifs[1]).count("migration"));
  auto st = set_field(t, other, "roles", json{"migration"});
  EXPECT_EQ(code(st), "NETWORK_ROLE_ALREADY_ASSIGNED");
  EXPECT_EQ(params(st), (std::vector<std::string>{"migration", storage}));
  // Two management networks: management is where the management PIF is, nowhere else.
  EXPECT_EQ(full_record(t, net_of(pifs[0]))["roles"], json{"management"});
  EXPECT_EQ(code(set_field(t, other, "roles", json{"management"})), "INVALID_VALUE");
  // A role whose service another interface of a host has is refused.
  ASSERT_EQ(code(set_field(t, pifs[0], "services", json{"management", "replication"})), "OK");
  st = set_field(t, other, "roles", json{"replication"});
  EXPECT_EQ(code(st), "HOST_SERVICE_ALREADY_ASSIGNED");
  EXPECT_EQ(params(st), (std::vector<std::string>{"replication", pifs[0]}));
  // And the interface cannot take a service its network's role gives another.
  st = set_field(t, pifs[0], "services", json{"display"});
  EXPECT_EQ(code(st), "HOST_SERVICE_ALREADY_ASSIGNED");
  EXPECT_EQ(params(st), (std::vector<std::string>{"display", pifs[1]}));
}

TEST_F(HostInterfaceTest, DefaultRouteServiceTakesTheRouteFromManagement) {
  auto route_of = [&] {
    std::string via;
    for (const auto& i : hvnet::host_config_from_model(t).interfaces)
      if (i.default_route) via += i.ifname;
    return via;
  };
  EXPECT_EQ(route_of(), "xenbr0");
  ASSERT_EQ(code(set_field(t, pifs[1], "services", json{"default-route"})), "OK");
  EXPECT_EQ(route_of(), "xenbr1");
}

TEST_F(HostInterfaceTest, NonVmNetworksTakeNoVifsAndHoldTheirNic) {
  const std::string storage = net_of(pifs[1]);
  const std::string vm = vm_create(t, {{"name_label", "vm"}}).value();
  const std::string vif =
      vif_create(t, {{"VM", vm}, {"network", storage}, {"device", "0"}}).value();
  auto st = set_field(t, storage, "VM_network", false);
  EXPECT_EQ(code(st), "NETWORK_CONTAINS_VIF");
  EXPECT_EQ(params(st), std::vector<std::string>{vif});
  ASSERT_TRUE(vif_destroy(t, vif));
  ASSERT_EQ(code(set_field(t, storage, "VM_network", false)), "OK");
  auto made = vif_create(t, {{"VM", vm}, {"network", storage}, {"device", "0"}});
  ASSERT_EQ(code(made), "NETWORK_IS_NOT_A_VM_NETWORK");
  EXPECT_EQ(made.error().params, std::vector<std::string>{storage});
  // Its NIC is no switch port: no VLAN, bond or mirror on it.
  EXPECT_EQ(code(vlan_create(t, pifs[1], 10, net("v10"))), "PIF_CARRIES_NON_VM_NETWORK");
  EXPECT_EQ(code(bond_create(t, net("b"), {pifs[1], pifs[2]}, "", "active-backup", json::object())),
            "PIF_CARRIES_NON_VM_NETWORK");
  const std::string vm2 = vm_create(t, {{"name_label", "vm2"}}).value();
  const std::string mon =
      vif_create(t, {{"VM", vm2}, {"network", net("m")}, {"device", "0"}}).value();
  EXPECT_EQ(
      code(port_mirror_create(
          t, {{"name_label", "s"}, {"ingress_sources", json{pifs[1]}}, {"destination_VIF", mon}})),
      "PIF_CARRIES_NON_VM_NETWORK");
  // And a NIC already carrying VLANs cannot become a non-VM network's.
  const std::string trunk = net_of(pifs[2]);
  ASSERT_TRUE(vlan_create(t, pifs[2], 20, net("v20")));
  st = set_field(t, trunk, "VM_network", false);
  EXPECT_EQ(code(st), "PIF_CARRIES_NON_VM_NETWORK");
  EXPECT_EQ(params(st), (std::vector<std::string>{pifs[2], trunk}));
  // The switch lets go of the NIC; the address goes on the NIC itself.
  const auto spec = hvnet::topology_from_model(t, 300);
  for (const auto& p : spec.ports) {
    EXPECT_NE(p.name, "eth1");
    EXPECT_NE(p.name, "xenbr1");
  }
  bool on_nic = false;
  for (const auto& i : hvnet::host_config_from_model(t).interfaces) on_nic |= i.ifname == "eth1";
  EXPECT_TRUE(on_nic);
}

TEST_F(HostInterfaceTest, LabelsAttachTheNetworkOnItsVlanToEveryLabelledNic) {
  const std::string lab = net("labelled");
  EXPECT_EQ(code(set_field(t, lab, "label", "bad label")), "INVALID_VALUE");
  EXPECT_EQ(code(set_field(t, lab, "label", "uplink")), "INVALID_VALUE");  // no VLAN yet
  EXPECT_EQ(code(set_field(t, lab, "label_VLAN", 4095)), "VLAN_TAG_INVALID");
  ASSERT_EQ(code(set_field(t, lab, "label_VLAN", 30)), "OK");
  ASSERT_EQ(code(set_field(t, lab, "label", "uplink")), "OK");
  EXPECT_TRUE(t.where("PIF", "network", lab).empty());  // no NIC has the label yet
  EXPECT_EQ(code(set_field(t, pifs[2], "labels", json{"bad/label"})), "INVALID_VALUE");
  ASSERT_EQ(code(set_field(t, pifs[2], "labels", json{"uplink", "spare"})), "OK");
  auto on = t.where("PIF", "network", lab);
  ASSERT_EQ(on.size(), 1u);
  EXPECT_EQ(t.get(on[0])->rec["VLAN"], 30);
  EXPECT_EQ(t.get(on[0])->rec["device"], "eth2");
  EXPECT_TRUE(t.get(on[0])->rec["currently_attached"].get<bool>());
  // Its VLAN is fixed while it is attached.
  EXPECT_EQ(code(set_field(t, lab, "label_VLAN", 31)), "NETWORK_CONTAINS_PIF");
  // A network created with a label attaches at once.
  auto second =
      network_create(t, {{"name_label", "second"}, {"label", "spare"}, {"label_VLAN", 40}});
  ASSERT_TRUE(second);
  EXPECT_EQ(t.where("PIF", "network", second.value()).size(), 1u);
}

TEST_F(HostInterfaceTest, RequiredNetworksMissingOrWithoutCarrierMakeTheHostNonOperational) {
  const std::string storage = net_of(pifs[1]);
  std::map<std::string, bool> carrier = {{"eth0", true}, {"eth1", true}, {"eth2", true}};
  const CarrierOf up = [&](const std::string& d) { return carrier[d]; };
  EXPECT_TRUE(missing_required_networks(t, host, up).empty());
  ASSERT_EQ(code(set_field(t, storage, "required", true)), "OK");
  const std::string nowhere = net("nowhere");
  ASSERT_EQ(code(set_field(t, nowhere, "required", true)), "OK");
  auto missing = missing_required_networks(t, host, up);
  EXPECT_EQ(missing, std::vector<std::string>{nowhere});
  ASSERT_TRUE(set_host_network_state(t, host, missing));
  EXPECT_EQ(t.get(host)->rec["network_state"], "non-operational");
  EXPECT_EQ(t.get(host)->rec["missing_networks"], json{nowhere});
  EXPECT_FALSE(set_host_network_state(t, host, missing));  // already says so: no write
  ASSERT_EQ(code(set_field(t, nowhere, "required", false)), "OK");
  carrier["eth1"] = false;
  EXPECT_EQ(missing_required_networks(t, host, up), std::vector<std::string>{storage});
  // A VLAN's carrier is its trunk's.
  carrier["eth1"] = true;
  const std::string v = net("v50");
  ASSERT_TRUE(vlan_create(t, pifs[2], 50, v));
  ASSERT_EQ(code(set_field(t, v, "required", true)), "OK");
  carrier["eth2"] = false;
  EXPECT_EQ(missing_required_networks(t, host, up), std::vector<std::string>{v});
  carrier["eth2"] = true;
  EXPECT_TRUE(missing_required_networks(t, host, up).empty());
  ASSERT_TRUE(set_host_network_state(t, host, {}));
  EXPECT_EQ(full_record(t, host)["network_state"], "operational");
}

}  // namespace
}  // namespace hvnet::model
