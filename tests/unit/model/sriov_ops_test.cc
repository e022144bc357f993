// SR-IOV on the object model: network_sriov.create's refusals in XenServer's order, the logical
// PIF, VF allocation at VM start until NETWORK_SRIOV_INSUFFICIENT_CAPACITY, VFs given back at
// shutdown, the hot-plug and topology rules, and the VM's allowed operations.
#include <gtest/gtest.h>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {
namespace {

class SriovOpsTest : public ::testing::Test {
 protected:
  SriovOpsTest() : t(db) {
    host = ensure_host(t, "h1");
    NicInfo capable{"eth0", "52:54:00:00:00:01", 1500, {"sriov"}, 2, "8086:10ed"};
    NicInfo other{"eth1", "52:54:00:00:00:02", 1500, {"sriov"}, 4, "15b3:1018"};
    NicInfo plain{"eth2", "52:54:00:00:00:03", 1500};
    pifs = pif_scan(t, host, {capable, other, plain}).value();
    net = network_create(t, {{"name_label", "sriov"}}).value();
  }
  static std::string code(const Status& s) {
    return s ? "OK" : s.error().code + ":" + s.error().params.at(0);
  }
  template <class T>
  static std::string code(const Result<T>& r) {
    return r ? "OK" : r.error().code + ":" + r.error().params.at(0);
  }
  // A halted VM with `n` VIFs on `network`.
  std::string vm_with_vifs(const std::string& network, int n) {
    const std::string vm = vm_create(t, {{"name_label", "vm"}}).value();
    EXPECT_TRUE(vm_shutdown(t, vm));
    for (int i = 0; i < n; ++i)
      vifs.push_back(
          vif_create(t, {{"VM", vm}, {"network", network}, {"device", std::to_string(i)}}).value());
    return vm;
  }
  int64_t vf_of(const std::string& vif) { return t.get(vif)->rec["sriov_VF"].get<int64_t>(); }
  Database db;
  Txn t;
  std::string host, net;
  std::vector<std::string> pifs, vifs;
};

TEST_F(SriovOpsTest, CreateMakesAPluggedLogicalPifOnTheNicsDevice) {
  auto s = network_sriov_create(t, pifs[0], net);
  ASSERT_TRUE(s) << s.error().to_string();
  const json rec = full_record(t, s.value());
  EXPECT_EQ(rec["physical_PIF"], pifs[0]);
  EXPECT_EQ(rec["configuration_mode"], "sysfs");
  EXPECT_EQ(rec["requires_reboot"], false);
  const json logical = full_record(t, rec["logical_PIF"]);
  EXPECT_EQ(logical["device"], "eth0");
  EXPECT_EQ(logical["MAC"], "fe:ff:ff:ff:ff:ff");
  EXPECT_EQ(logical["physical"], false);
  EXPECT_EQ(logical["currently_attached"], true);
  EXPECT_EQ(logical["network"], net);
  EXPECT_EQ(logical["sriov_logical_PIF_of"], json::array({s.value()}));
  EXPECT_EQ(full_record(t, pifs[0])["sriov_physical_PIF_of"], json::array({s.value()}));
  EXPECT_TRUE(is_sriov_network(t, net));
  EXPECT_EQ(sriov_remaining_capacity(t, s.value()), 2);
}

TEST_F(SriovOpsTest, CreateRefusesWhatXenServerRefuses) {
  const std::string vlan_net = network_create(t, {{"name_label", "v"}}).value();
  const std::string vlan = vlan_create(t, pifs[2], 5, vlan_net).value();
  const std::string vlan_pif = t.get(vlan)->rec["untagged_PIF"];
  EXPECT_EQ(code(network_sriov_create(t, vlan_pif, net)), "PIF_IS_NOT_PHYSICAL:" + vlan_pif);
  EXPECT_EQ(code(network_sriov_create(t, pifs[2], net)), "PIF_IS_NOT_SRIOV_CAPABLE:" + pifs[2]);
  ASSERT_TRUE(network_sriov_create(t, pifs[0], net));
  const std::string net2 = network_create(t, {{"name_label", "n2"}}).value();
  EXPECT_EQ(code(network_sriov_create(t, pifs[0], net2)),
            "NETWORK_SRIOV_ALREADY_ENABLED:" + pifs[0]);
  // One PIF per host on a network.
  EXPECT_EQ(code(network_sriov_create(t, pifs[1], net)), "NETWORK_ALREADY_CONNECTED:" + host);
  // A network with plain PIFs (here another host's NIC) takes no SR-IOV PIF.
  const std::string h2 = new_uuid();
  t.put(h2, Object{"host", default_record(*find_class("host"))});
  const std::string nic2 = pif_scan(t, h2, {{"eth5", "52:54:00:00:05:01", 1500}}).value()[0];
  const std::string plain_net = t.get(nic2)->rec["network"];
  EXPECT_EQ(code(network_sriov_create(t, pifs[1], plain_net)),
            "NETWORK_INCOMPATIBLE_WITH_SRIOV:" + plain_net);
}

TEST_F(SriovOpsTest, ANetworkSpansHostsWithTheSameKindOfNic) {
  ASSERT_TRUE(network_sriov_create(t, pifs[0], net));
  const std::string h2 = new_uuid();
  t.put(h2, Object{"host", default_record(*find_class("host"))});
  auto same = pif_scan(t, h2, {{"eth0", "52:54:00:00:01:01", 1500, {"sriov"}, 8, "8086:10ed"}});
  auto different =
      pif_scan(t, h2, {{"eth1", "52:54:00:00:01:02", 1500, {"sriov"}, 8, "15b3:1018"}});
  EXPECT_EQ(code(network_sriov_create(t, different.value()[0], net)),
            "NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS:" + different.value()[0]);
  auto s2 = network_sriov_create(t, same.value()[0], net);
  ASSERT_TRUE(s2) << s2.error().to_string();
  EXPECT_EQ(sriov_remaining_capacity(t, s2.value()), 8);  // each host its own NIC's VFs
}

TEST_F(SriovOpsTest, VmStartTakesVfsUntilTheNicHasNoneLeftAndShutdownGivesThemBack) {
  const std::string s = network_sriov_create(t, pifs[0], net).value();
  const std::string vm1 = vm_with_vifs(net, 2), vm2 = vm_with_vifs(net, 1);
  ASSERT_TRUE(vm_start(t, vm1));
  EXPECT_EQ(vf_of(vifs[0]), 0);
  EXPECT_EQ(vf_of(vifs[1]), 1);
  EXPECT_EQ(t.get(vifs[0])->rec["currently_attached"], true);
  EXPECT_EQ(sriov_remaining_capacity(t, s), 0);
  // None left: refused (the manager drops what the refused call staged).
  EXPECT_EQ(code(vm_start(t, vm2)), "NETWORK_SRIOV_INSUFFICIENT_CAPACITY:" + net);
  EXPECT_EQ(vf_of(vifs[2]), -1);
  ASSERT_TRUE(vm_shutdown(t, vm2));
  ASSERT_TRUE(vm_shutdown(t, vm1));
  EXPECT_EQ(vf_of(vifs[0]), -1);
  EXPECT_EQ(sriov_remaining_capacity(t, s), 2);
  ASSERT_TRUE(vm_start(t, vm2));
  EXPECT_EQ(vf_of(vifs[2]), 0);  // the lowest free one
  EXPECT_EQ(sriov_held_vfs(t, s), (std::map<int64_t, std::string>{{0, vifs[2]}}));
}

TEST_F(SriovOpsTest, VfVifsAreNeverHotPluggedAndTheirVmCannotMigrate) {
  network_sriov_create(t, pifs[0], net).value();
  const std::string vm = vm_with_vifs(net, 1);
  EXPECT_EQ(vm_allowed_operations(t, vm), json::array({"start", "destroy"}));
  ASSERT_TRUE(vm_start(t, vm));
  EXPECT_EQ(code(vif_unplug(t, vifs[0])),
            "OPERATION_NOT_ALLOWED:Network SR-IOV VIF plug/unplug not allowed");
  EXPECT_EQ(full_record(t, vifs[0])["allowed_operations"], json::array());
  EXPECT_EQ(vm_allowed_operations(t, vm), json::array({"clean_shutdown", "hard_shutdown"}));
  // A VM without VFs keeps its migrations.
  const std::string plain = vm_create(t, {{"name_label", "plain"}}).value();
  EXPECT_EQ(vm_allowed_operations(t, plain),
            json::array({"clean_shutdown", "hard_shutdown", "pool_migrate", "migrate_send"}));
  EXPECT_EQ(code(vm_start(t, plain)), "VM_BAD_POWER_STATE:" + plain);
}

TEST_F(SriovOpsTest, VlansOnALogicalPifMakeAnSriovNetworkWhoseVfsTagIt) {
  const std::string s = network_sriov_create(t, pifs[0], net).value();
  const std::string logical = t.get(s)->rec["logical_PIF"];
  const std::string vnet = network_create(t, {{"name_label", "v10"}}).value();
  auto vlan = vlan_create(t, logical, 10, vnet);
  ASSERT_TRUE(vlan) << vlan.error().to_string();
  EXPECT_TRUE(is_sriov_network(t, vnet));
  auto place = sriov_on_host(t, vnet, host);
  ASSERT_TRUE(place);
  EXPECT_EQ(place->sriov, s);
  EXPECT_EQ(place->vlan, 10);
  // A VLAN on a plain NIC cannot join it; SR-IOV cannot be destroyed under the VLAN.
  EXPECT_EQ(code(vlan_create(t, pifs[2], 11, vnet)), "NETWORK_ALREADY_CONNECTED:" + host);
  EXPECT_EQ(code(network_sriov_destroy(t, s)), "PIF_VLAN_STILL_EXISTS:" + logical);
  // VFs on the VLAN network count against the same NIC.
  const std::string vm = vm_with_vifs(vnet, 1);
  ASSERT_TRUE(vm_start(t, vm));
  EXPECT_EQ(sriov_remaining_capacity(t, s), 1);
}

TEST_F(SriovOpsTest, SriovNetworksTakeNoBondTunnelOrBridgeVlan) {
  const std::string s = network_sriov_create(t, pifs[0], net).value();
  const std::string logical = t.get(s)->rec["logical_PIF"];
  EXPECT_EQ(code(refuse_sriov_topology(t, SriovUse::kBond, "", net)),
            "NETWORK_INCOMPATIBLE_WITH_BOND:" + net);
  EXPECT_EQ(code(refuse_sriov_topology(t, SriovUse::kTunnel, logical, "")),
            "CANNOT_ADD_TUNNEL_TO_SRIOV_LOGICAL:" + logical);
  EXPECT_EQ(code(pif_forget(t, logical)), "CANNOT_FORGET_SRIOV_LOGICAL:" + logical);
  EXPECT_EQ(code(pif_forget(t, pifs[0])), "PIF_SRIOV_STILL_EXISTS:" + pifs[0]);
  // A network of VLANs on logical PIFs takes no VLAN on a plain NIC from another host.
  const std::string vnet = network_create(t, {{"name_label", "v"}}).value();
  ASSERT_TRUE(vlan_create(t, logical, 7, vnet));
  const std::string h2 = new_uuid();
  t.put(h2, Object{"host", default_record(*find_class("host"))});
  const std::string nic2 = pif_scan(t, h2, {{"eth2", "52:54:00:00:02:01", 1500}}).value()[0];
  EXPECT_EQ(code(vlan_create(t, nic2, 7, vnet)),
            "NETWORK_INCOMPATIBLE_WITH_VLAN_ON_BRIDGE:" + vnet);
}

TEST_F(SriovOpsTest, DestroyWaitsForItsVfsAndTakesTheLogicalPif) {
  const std::string s = network_sriov_create(t, pifs[0], net).value();
  const std::string logical = t.get(s)->rec["logical_PIF"];
  const std::string vm = vm_with_vifs(net, 1);
  ASSERT_TRUE(vm_start(t, vm));
  EXPECT_EQ(code(network_sriov_destroy(t, s)),
            "OPERATION_NOT_ALLOWED:VF 0 of the NIC is held by VIF " + vifs[0] +
                ": shut its VM down first");
  EXPECT_EQ(code(pif_unplug(t, logical)).rfind("OPERATION_NOT_ALLOWED", 0), 0u);
  ASSERT_TRUE(vm_shutdown(t, vm));
  ASSERT_TRUE(network_sriov_destroy(t, s));
  EXPECT_EQ(t.get(logical), nullptr);
  EXPECT_FALSE(is_sriov_network(t, net));
}

}  // namespace
}  // namespace hvnet::model
