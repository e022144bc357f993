// XenServer rules of the network manager's operations, on an in-memory Txn.
#include "model/ops.h"

#include <gtest/gtest.h>

#include "model/records.h"

namespace hvnet::model {
namespace {

class OpsTest : public ::testing::Test {
 protected:
  OpsTest() : t(db) {
    host = ensure_host(t, "h1");
    auto pifs = pif_scan(
        t, host, {{"eth0", "52:54:00:00:00:01", 1500}, {"eth1", "52:54:00:00:00:02", 9000}});
    eth0 = pifs.value()[0];
    eth1 = pifs.value()[1];
  }
  std::string code(const Status& s) { return s ? "OK" : s.error().code; }
  template <typename T>
  std::string code(const Result<T>& r) {
    return r ? "OK" : r.error().code;
  }
  std::string net(const char* label) { return network_create(t, {{"name_label", label}}).value(); }

  Database db;
  Txn t;
  std::string host, eth0, eth1;
};

TEST_F(OpsTest, ScanMakesOnePifAndOneXenbrNetworkPerNicUnplugged) {
  EXPECT_EQ(t.all_of("PIF").size(), 2u);
  const json& p = t.get(eth0)->rec;
  EXPECT_EQ(p["device"], "eth0");
  EXPECT_FALSE(p["currently_attached"].get<bool>());
  EXPECT_EQ(p["VLAN"], -1);
  EXPECT_EQ(t.get(p["network"])->rec["bridge"], "xenbr0");
  EXPECT_EQ(t.get(t.get(eth1)->rec["network"])->rec["bridge"], "xenbr1");
  EXPECT_EQ(t.get(t.get(eth1)->rec["network"])->rec["MTU"], 9000);
  // A second scan finds nothing new.
  EXPECT_TRUE(pif_scan(t, host, {{"eth0", "52:54:00:00:00:01", 1500}}).value().empty());
}

TEST_F(OpsTest, NetworkCreateDefaultsAndValidation) {
  auto n = network_create(t, {{"name_label", "a"}});
  ASSERT_TRUE(n);
  EXPECT_EQ(t.get(n.value())->rec["bridge"], "xapi0");
  EXPECT_EQ(t.get(n.value())->rec["MTU"], 1500);
  EXPECT_EQ(t.get(network_create(t, {{"name_label", "b"}, {"MTU", -5}}).value())->rec["MTU"], 1500);
  EXPECT_EQ(code(network_create(t, {{"MTU", 9217}})), "MTU_INVALID");
  EXPECT_EQ(code(network_create(t, {{"MTU", "lots"}})), "FIELD_TYPE_ERROR");
  // 2^63 does not fit XenAPI's int64: refused, not wrapped into a negative (hence default) MTU.
  EXPECT_EQ(code(network_create(t, {{"MTU", uint64_t(1) << 63}})), "FIELD_TYPE_ERROR");
  EXPECT_EQ(code(network_create(t, {{"MTU", "9223372036854775808"}})), "FIELD_TYPE_ERROR");
  EXPECT_EQ(code(network_create(t, {{"bridge", "xenbr9"}})), "INVALID_VALUE");
  EXPECT_EQ(code(network_create(t, {{"bridge", "a-name-longer-than-15"}})), "INVALID_VALUE");
  ASSERT_EQ(code(network_create(t, {{"bridge", "storage0"}})), "OK");
  EXPECT_EQ(code(network_create(t, {{"bridge", "storage0"}})), "BRIDGE_NAME_EXISTS");
}

TEST_F(OpsTest, NetworkDestroyRefusesWhilePifsOrVifsUseIt) {
  EXPECT_EQ(code(network_destroy(t, t.get(eth0)->rec["network"])), "NETWORK_CONTAINS_PIF");
  std::string n = net("vms");
  std::string vm = vm_create(t, {{"name_label", "vm"}}).value();
  std::string vif = vif_create(t, {{"VM", vm}, {"network", n}, {"device", "0"}}).value();
  auto st = network_destroy(t, n);
  ASSERT_EQ(code(st), "NETWORK_CONTAINS_VIF");
  EXPECT_EQ(st.error().params, std::vector<std::string>{vif});
  ASSERT_EQ(code(vif_destroy(t, vif)), "OK");
  EXPECT_EQ(code(network_destroy(t, n)), "OK");
  EXPECT_EQ(t.get(n), nullptr);
}

TEST_F(OpsTest, PurposesNbdAndInsecureNbdExcludeEachOther) {
  std::string n = net("nbd");
  EXPECT_EQ(code(network_add_purpose(t, n, "nbd")), "OK");
  auto st = network_add_purpose(t, n, "insecure_nbd");
  ASSERT_EQ(code(st), "NETWORK_INCOMPATIBLE_PURPOSES");
  EXPECT_EQ(st.error().params, (std::vector<std::string>{"insecure_nbd", "nbd"}));
  EXPECT_EQ(code(network_add_purpose(t, n, "backup")), "INVALID_VALUE");
  EXPECT_EQ(code(network_remove_purpose(t, n, "nbd")), "OK");
  EXPECT_EQ(code(network_add_purpose(t, n, "insecure_nbd")), "OK");
}

TEST_F(OpsTest, VlanCreateFollowsXapisChecksInOrder) {
  std::string n5 = net("v5"), n6 = net("v6");
  auto v = vlan_create(t, eth0, 5, n5);
  ASSERT_TRUE(v);
  const json vr = t.get(v.value())->rec;
  const json up = t.get(vr["untagged_PIF"])->rec;
  EXPECT_EQ(up["VLAN"], 5);
  EXPECT_EQ(up["device"], "eth0");
  EXPECT_EQ(up["MAC"], "fe:ff:ff:ff:ff:ff");
  EXPECT_TRUE(up["currently_attached"].get<bool>());
  EXPECT_TRUE(t.get(eth0)->rec["currently_attached"].get<bool>());  // plugging the VLAN plugs eth0

  EXPECT_EQ(code(vlan_create(t, eth0, 6, n5)), "NETWORK_ALREADY_CONNECTED");
  EXPECT_EQ(code(vlan_create(t, vr["untagged_PIF"], 6, n6)), "PIF_IS_VLAN");
  EXPECT_EQ(code(vlan_create(t, eth0, 4096, n6)), "VLAN_TAG_INVALID");
  EXPECT_EQ(code(vlan_create(t, eth0, -1, n6)), "VLAN_TAG_INVALID");
  auto dup = vlan_create(t, eth0, 5, n6);
  ASSERT_EQ(code(dup), "PIF_VLAN_EXISTS");
  EXPECT_EQ(dup.error().params, std::vector<std::string>{"eth0"});
  EXPECT_EQ(code(vlan_create(t, eth0, 0, n6)), "OK");  // tag 0 is accepted, as in xapi

  EXPECT_EQ(code(pif_forget(t, eth0)), "PIF_VLAN_STILL_EXISTS");
  EXPECT_EQ(code(vlan_destroy(t, v.value())), "OK");
  EXPECT_EQ(t.get(vr["untagged_PIF"].get<std::string>()), nullptr);
}

TEST_F(OpsTest, PoolCreateVlanUsesTheDeviceOnEveryHost) {
  std::string n = net("v7");
  auto pifs = pool_create_vlan(t, "eth1", n, 7);
  ASSERT_TRUE(pifs);
  ASSERT_EQ(pifs.value().size(), 1u);
  EXPECT_EQ(t.get(pifs.value()[0])->rec["VLAN"], 7);
  EXPECT_EQ(code(pool_create_vlan(t, "eth9", net("v8"), 8)), "INVALID_VALUE");
}

TEST_F(OpsTest, PifPlugUnplugForget) {
  EXPECT_EQ(code(pif_plug(t, eth1)), "OK");
  EXPECT_TRUE(t.get(eth1)->rec["currently_attached"].get<bool>());
  t.set_field(eth1, "disallow_unplug", true);
  EXPECT_EQ(code(pif_unplug(t, eth1)), "PIF_DOES_NOT_ALLOW_UNPLUG");
  t.set_field(eth1, "disallow_unplug", false);
  t.set_field(eth1, "management", true);
  EXPECT_EQ(code(pif_unplug(t, eth1)), "PIF_IS_MANAGEMENT_INTERFACE");
  EXPECT_EQ(code(pif_forget(t, eth1)), "PIF_IS_MANAGEMENT_INTERFACE");
  t.set_field(eth1, "management", false);
  EXPECT_EQ(code(pif_unplug(t, eth1)), "OK");
  EXPECT_EQ(code(pif_forget(t, eth1)), "OK");
  EXPECT_EQ(t.get(eth1), nullptr);
}

TEST_F(OpsTest, VifCreateValidatesAndNamesTheTap) {
  std::string n = net("vms");
  std::string vm = vm_create(t, {{"name_label", "vm"}}).value();
  std::string vm2 = vm_create(t, {{"name_label", "vm2"}}).value();
  EXPECT_EQ(t.get(vm2)->rec["domid"], 2);
  auto v =
      vif_create(t, {{"VM", "OpaqueRef:" + vm}, {"network", "OpaqueRef:" + n}, {"device", "0"}});
  ASSERT_TRUE(v);
  const json& r = t.get(v.value())->rec;
  EXPECT_EQ(r["MAC"].get<std::string>().substr(0, 9), "00:16:3e:");  // Xen OUI
  EXPECT_TRUE(r["MAC_autogenerated"].get<bool>());
  EXPECT_EQ(vif_device_name(t, v.value()), "vif1.0");
  // Generated MACs stay in Xen's half of the OUI: 00:16:3e:00-7f (64 tries of 1 in 2 each).
  for (int i = 0; i < 64; ++i) {
    auto m = vif_create(t, {{"VM", vm2}, {"network", n}, {"device", std::to_string(i)}});
    ASSERT_TRUE(m);
    EXPECT_LT(std::stoi(t.get(m.value())->rec["MAC"].get<std::string>().substr(9, 2), nullptr, 16),
              0x80);
  }
  EXPECT_EQ(code(vif_create(t, {{"VM", vm}, {"network", n}, {"device", "0"}})),
            "DEVICE_ALREADY_EXISTS");
  EXPECT_EQ(code(vif_create(t, {{"VM", vm}, {"network", n}, {"device", "x"}})), "INVALID_DEVICE");
  EXPECT_EQ(code(vif_create(t, {{"VM", vm}, {"network", n}, {"device", "1"}, {"MAC", "zz"}})),
            "MAC_INVALID");
  EXPECT_EQ(code(vif_create(
                t, {{"VM", vm}, {"network", n}, {"device", "1"}, {"MAC", "01:00:5e:00:00:01"}})),
            "MAC_INVALID");
  EXPECT_EQ(code(vif_create(t, {{"VM", vm}, {"network", "nope"}, {"device", "1"}})),
            "HANDLE_INVALID");
  auto fixed =
      vif_create(t, {{"VM", vm}, {"network", n}, {"device", "1"}, {"MAC", "00:16:3E:AA:00:01"}});
  ASSERT_TRUE(fixed);
  EXPECT_EQ(t.get(fixed.value())->rec["MAC"], "00:16:3e:aa:00:01");
  EXPECT_EQ(code(vif_plug(t, v.value())), "OK");
  EXPECT_EQ(code(vif_plug(t, v.value())), "DEVICE_ALREADY_ATTACHED");
  EXPECT_EQ(code(vif_destroy(t, v.value())), "OPERATION_NOT_ALLOWED");
  EXPECT_EQ(code(vif_unplug(t, v.value())), "OK");
  EXPECT_EQ(code(vif_unplug(t, v.value())), "DEVICE_ALREADY_DETACHED");
}

TEST_F(OpsTest, NetworkMtuFollowsToVifsAndIsRangeChecked) {
  std::string n = net("vms");
  std::string vm = vm_create(t, {{"name_label", "vm"}}).value();
  std::string v = vif_create(t, {{"VM", vm}, {"network", n}, {"device", "0"}}).value();
  EXPECT_EQ(code(set_field(t, n, "MTU", 9000)), "OK");
  EXPECT_EQ(t.get(v)->rec["MTU"], 9000);
  EXPECT_EQ(code(set_field(t, n, "MTU", 10)), "MTU_INVALID");
  EXPECT_EQ(t.get(n)->rec["MTU"], 9000);
}

TEST_F(OpsTest, DerivedFieldsAreComputedFromBackReferences) {
  std::string n = t.get(eth0)->rec["network"];
  json r = full_record(t, n);
  EXPECT_EQ(r["PIFs"], json::array({eth0}));
  EXPECT_EQ(full_record(t, host)["PIFs"].size(), 2u);
}

// Guest VLAN tagging: VLAN 4095 makes a network a trunk for its VIFs on that uplink (an uplink
// may carry several), trunk_VLANs and native_VLAN are checked and normalised, and the PIF has no
// host end.
TEST_F(OpsTest, GuestTaggingNetworksAndTheirVlanLists) {
  auto trunk = network_create(t, {{"name_label", "trunk"}}).value();
  auto other = network_create(t, {{"name_label", "trunk2"}}).value();
  auto v = vlan_create(t, eth0, kTrunkVlanTag, trunk);
  ASSERT_EQ(code(v), "OK");
  EXPECT_EQ(code(vlan_create(t, eth0, kTrunkVlanTag, other)), "OK");
  EXPECT_EQ(code(vlan_create(t, eth0, 4096, net("third"))), "VLAN_TAG_INVALID");
  const std::string pif = t.get(v.value())->rec["untagged_PIF"];
  EXPECT_EQ(trunk_pif(t, trunk, host), pif);
  EXPECT_EQ(trunk_pif(t, trunk, "elsewhere"), "");
  auto ip = pif_reconfigure_ip(t, pif, "Static", "10.0.0.1", "255.255.255.0", "", "");
  ASSERT_EQ(code(ip), "INVALID_VALUE");
  EXPECT_EQ(ip.error().params.at(0), "PIF");

  // The list: tags and ranges of 1..4094, sorted and merged as stored.
  ASSERT_EQ(code(set_field(t, trunk, "trunk_VLANs", json{"30", "10-20", "21", "5"})), "OK");
  EXPECT_EQ(t.get(trunk)->rec["trunk_VLANs"], (json{"5", "10-21", "30"}));
  auto ranges = parse_trunk_vlans(t.get(trunk)->rec["trunk_VLANs"]).value();
  EXPECT_TRUE(vlan_in(ranges, 15));
  EXPECT_FALSE(vlan_in(ranges, 22));
  EXPECT_TRUE(vlan_in({}, 4094));  // empty: every VLAN
  EXPECT_FALSE(vlan_in({}, 0));
  for (const char* bad : {"0", "4095", "10-4095"}) {
    auto r = set_field(t, trunk, "trunk_VLANs", json{bad});
    ASSERT_EQ(code(r), "VLAN_TAG_INVALID") << bad;
    EXPECT_EQ(r.error().params, std::vector<std::string>{bad});
  }
  for (const char* bad : {"ten", "20-10", "", "-5", "1-2-3", "999999"}) {
    auto r = set_field(t, trunk, "trunk_VLANs", json{bad});
    ASSERT_EQ(code(r), "INVALID_VALUE") << bad;
    EXPECT_EQ(r.error().params, (std::vector<std::string>{"trunk_VLANs", bad}));
  }
  json many = json::array();
  for (int i = 1; i <= 257; ++i) many.push_back(std::to_string(i * 10));
  EXPECT_EQ(code(set_field(t, trunk, "trunk_VLANs", many)), "INVALID_VALUE");
  EXPECT_EQ(t.get(trunk)->rec["trunk_VLANs"], (json{"5", "10-21", "30"}));  // nothing lost

  EXPECT_EQ(code(set_field(t, trunk, "native_VLAN", 4095)), "VLAN_TAG_INVALID");
  EXPECT_EQ(code(set_field(t, trunk, "native_VLAN", -1)), "VLAN_TAG_INVALID");
  ASSERT_EQ(code(set_field(t, trunk, "native_VLAN", 10)), "OK");
  EXPECT_EQ(t.get(trunk)->rec["native_VLAN"], 10);
}

// The security policy fields take reject or accept (any case, stored as spelled here), default
// to vSphere's, and are checked at network.create as at set_.
TEST_F(OpsTest, SecurityPolicyFieldsAreCheckedAndDefaulted) {
  const std::string n = net("pg");
  EXPECT_EQ(t.get(n)->rec["promiscuous_mode"], "reject");
  EXPECT_EQ(t.get(n)->rec["MAC_changes"], "accept");
  EXPECT_EQ(t.get(n)->rec["forged_transmits"], "accept");
  ASSERT_EQ(code(set_field(t, n, "promiscuous_mode", "Accept")), "OK");
  EXPECT_EQ(t.get(n)->rec["promiscuous_mode"], "accept");
  auto bad = set_field(t, n, "forged_transmits", "maybe");
  ASSERT_EQ(code(bad), "INVALID_VALUE");
  EXPECT_EQ(bad.error().params, (std::vector<std::string>{"forged_transmits", "maybe"}));
  EXPECT_EQ(t.get(n)->rec["forged_transmits"], "accept");
  EXPECT_FALSE(policy_rejects(t.get(n)->rec, "forged_transmits"));
  EXPECT_TRUE(policy_rejects(json{{"uuid", "old"}}, "promiscuous_mode"));  // from before them
  EXPECT_EQ(code(network_create(t, {{"name_label", "x"}, {"MAC_changes", "no"}})), "INVALID_VALUE");
  EXPECT_EQ(code(network_create(t, {{"name_label", "y"}, {"trunk_VLANs", {"0"}}})),
            "VLAN_TAG_INVALID");
  auto ok = network_create(t, {{"name_label", "z"}, {"forged_transmits", "REJECT"}});
  ASSERT_EQ(code(ok), "OK");
  EXPECT_EQ(t.get(ok.value())->rec["forged_transmits"], "reject");
}

// Traffic shaping: each value 0..10^8, a peak no lower than the average, whichever is written
// last; refused writes change nothing.
TEST_F(OpsTest, ShapingValuesAreCheckedAgainstEachOther) {
  const std::string n = net("shaped");
  ASSERT_EQ(code(set_field(t, n, "shaping_average", 1000)), "OK");
  auto low = set_field(t, n, "shaping_peak", 500);
  ASSERT_EQ(code(low), "INVALID_VALUE");
  EXPECT_EQ(low.error().params.at(0), "shaping_peak");
  ASSERT_EQ(code(set_field(t, n, "shaping_peak", 3000)), "OK");
  EXPECT_EQ(code(set_field(t, n, "shaping_average", 4000)), "INVALID_VALUE");
  EXPECT_EQ(code(set_field(t, n, "shaping_burst", -1)), "INVALID_VALUE");
  EXPECT_EQ(code(set_field(t, n, "shaping_burst", 100000001)), "INVALID_VALUE");
  EXPECT_EQ(t.get(n)->rec["shaping_average"], 1000);
  EXPECT_EQ(t.get(n)->rec["shaping_peak"], 3000);
  EXPECT_EQ(
      code(network_create(t, {{"name_label", "x"}, {"shaping_peak", 1}, {"shaping_average", 2}})),
      "INVALID_VALUE");
}

// Port mirroring sessions: one destination (a VIF or a PIF), not a source, a VIF the
// destination of one session only, sources that exist; a VIF destroyed leaves the sessions.
TEST_F(OpsTest, PortMirrorSessionsAreChecked) {
  const std::string n = net("m");
  auto vm = vm_create(t, {{"name_label", "vm"}}).value();
  auto vif = [&](const char* dev) {
    return vif_create(t, {{"VM", vm}, {"network", n}, {"device", dev}, {"MAC", ""}}).value();
  };
  const std::string src = vif("0"), dst = vif("1"), other = vif("2");
  auto mk = [&](json r) { return port_mirror_create(t, r); };
  EXPECT_EQ(code(mk({{"ingress_sources", {src}}})), "INVALID_VALUE");  // no destination
  EXPECT_EQ(
      code(mk({{"ingress_sources", {src}}, {"destination_VIF", dst}, {"destination_PIF", eth0}})),
      "INVALID_VALUE");
  EXPECT_EQ(code(mk({{"destination_VIF", dst}})), "INVALID_VALUE");  // no source
  EXPECT_EQ(code(mk({{"ingress_sources", {"nope"}}, {"destination_VIF", dst}})), "HANDLE_INVALID");
  EXPECT_EQ(code(mk({{"ingress_sources", {dst}}, {"destination_VIF", dst}})), "INVALID_VALUE");
  EXPECT_EQ(
      code(mk({{"ingress_sources", {src}}, {"destination_VIF", dst}, {"destination_VLAN", 5}})),
      "INVALID_VALUE");
  EXPECT_EQ(
      code(mk({{"ingress_sources", {src}}, {"destination_PIF", eth0}, {"destination_VLAN", 4095}})),
      "VLAN_TAG_INVALID");
  auto s1 =
      mk({{"ingress_sources", {"OpaqueRef:" + src}}, {"destination_VIF", "OpaqueRef:" + dst}});
  ASSERT_EQ(code(s1), "OK");
  EXPECT_EQ(t.get(s1.value())->rec["ingress_sources"], json{src});
  EXPECT_EQ(t.get(s1.value())->rec["destination_VIF"], dst);
  EXPECT_EQ(code(mk({{"egress_sources", {other}}, {"destination_VIF", dst}})), "INVALID_VALUE");
  ASSERT_EQ(
      code(mk({{"egress_sources", {src}}, {"destination_PIF", eth0}, {"destination_VLAN", 99}})),
      "OK");
  EXPECT_EQ(code(set_field(t, s1.value(), "egress_sources", json{dst})), "INVALID_VALUE");
  ASSERT_EQ(code(set_field(t, s1.value(), "egress_sources", json{other})), "OK");
  ASSERT_TRUE(vif_destroy(t, other));
  EXPECT_EQ(t.get(s1.value())->rec["egress_sources"], json::array());
  ASSERT_TRUE(vif_destroy(t, dst));
  EXPECT_EQ(t.get(s1.value(), "port_mirror"), nullptr);  // its destination went
}

TEST_F(OpsTest, FailoverOrderNamesUpToFourDistinctDevices) {
  const std::string n = net("teamed");
  ASSERT_EQ(code(set_field(t, n, "failover_order", "eth1,eth0")), "OK");
  for (const char* bad : {"eth0,eth0", "a,b,c,d,e", "eth0,", "bad name", "averyveryverylongname"}) {
    auto r = set_field(t, n, "failover_order", bad);
    ASSERT_EQ(code(r), "INVALID_VALUE") << bad;
    EXPECT_EQ(r.error().params, (std::vector<std::string>{"failover_order", bad}));
  }
  EXPECT_EQ(t.get(n)->rec["failover_order"], "eth1,eth0");
  EXPECT_EQ(code(set_field(t, n, "failover_order", "")), "OK");
}

}  // namespace
}  // namespace hvnet::model
