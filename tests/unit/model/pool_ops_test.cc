// Pool membership on the object model: what a joining host brings and receives, and what leaves
// with an ejected one (XenServer's rules and codes).
#include <gtest/gtest.h>

#include <set>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {
namespace {

std::vector<NicInfo> nics(int host) {
  std::vector<NicInfo> out;
  for (int i = 0; i < 3; ++i)
    out.push_back({"eth" + std::to_string(i),
                   "52:54:00:00:0" + std::to_string(host) + ":0" + std::to_string(i), 1500});
  return out;
}

// Folds what a Txn staged into its database (what a commit does).
void fold(Database& db, const Txn& t) {
  for (const auto& [uuid, o] : t.changes()) {
    if (o)
      db.put(uuid, *o);
    else
      db.erase(uuid);
  }
}

std::string code(const Status& s) {
  return s ? "OK" : s.error().code;
}

class PoolOpsTest : public ::testing::Test {
 protected:
  PoolOpsTest() {
    Txn t(pool);
    master = ensure_host(t, "m");
    refresh_host_identity(t, master);
    ensure_pool(t, master);
    auto pifs = pif_scan(t, master, nics(1)).value();
    bondnet = network_create(t, {{"name_label", "bond"}}).value();
    EXPECT_TRUE(bond_create(t, bondnet, {pifs[1], pifs[2]}, "", "active-backup", json::object()));
    for (int tag : {10, 20}) {
      auto net = network_create(t, {{"name_label", "v" + std::to_string(tag)}}).value();
      vlan_nets[tag] = net;
      EXPECT_TRUE(vlan_create(t, pifs[0], tag, net));
    }
    fold(pool, t);
    Txn j(joiner);
    joiner_host = ensure_host(j, "j");
    refresh_host_identity(j, joiner_host);
    ensure_pool(j, joiner_host);
    joiner_pifs = pif_scan(j, joiner_host, nics(2)).value();
    fold(joiner, j);
  }
  json master_host() { return pool.get(master)->rec; }
  // The joiner in the pool, committed.
  void join() {
    Txn mine(joiner, false);
    Txn t(pool);
    ASSERT_TRUE(pool_join(t, mine));
    fold(pool, t);
  }
  std::vector<std::string> joiner_pifs_where(const Txn& t, const std::string& device,
                                             int64_t vlan) {
    return t.where("PIF", Match{{"device", device}, {"host", joiner_host}, {"VLAN", vlan}});
  }
  Database pool, joiner;
  std::string master, bondnet, joiner_host;
  std::map<int, std::string> vlan_nets;
  std::vector<std::string> joiner_pifs;
};

TEST_F(PoolOpsTest, JoinerTakesThePoolsNetworksBondsAndVlansByDevice) {
  Txn mine(joiner, false);
  ASSERT_EQ(code(pool_join_checks(mine, master_host())), "OK");
  Txn t(pool);
  auto h = pool_join(t, mine);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h.value(), joiner_host);
  ASSERT_TRUE(t.get(joiner_host, "host"));
  // eth0 is on the network of the master's eth0 (same bridge): no network of its own.
  auto eth0 = [&](const std::string& host) {
    return t
        .get(t.where("PIF", Match{{"device", "eth0"}, {"host", host}, {"VLAN", int64_t(-1)}})
                 .front())
        ->rec["network"];
  };
  EXPECT_EQ(eth0(joiner_host), eth0(master));
  // The bond, on the joiner's eth1 and eth2, same mode, on the same network.
  std::vector<std::string> bonds;
  for (const auto& b : t.all_of("Bond"))
    if (t.get(t.get(b)->rec["master"].get<std::string>())->rec["host"] == joiner_host)
      bonds.push_back(b);
  ASSERT_EQ(bonds.size(), 1u);
  EXPECT_EQ(t.get(bonds[0])->rec["mode"], "active-backup");
  std::set<std::string> members;
  for (const auto& m : t.where("PIF", "bond_slave_of", bonds[0])) {
    EXPECT_EQ(t.get(m)->rec["host"], joiner_host);
    members.insert(t.get(m)->rec["device"]);
  }
  EXPECT_EQ(members, (std::set<std::string>{"eth1", "eth2"}));
  EXPECT_EQ(t.get(t.get(bonds[0])->rec["master"].get<std::string>())->rec["network"], bondnet);
  // Both VLANs (the second on eth0 itself, not on the first VLAN's PIF), plugged.
  for (auto [tag, net] : vlan_nets) {
    auto p = joiner_pifs_where(t, "eth0", tag);
    ASSERT_EQ(p.size(), 1u) << tag;
    EXPECT_EQ(t.get(p[0])->rec["network"], net);
    EXPECT_TRUE(t.get(p[0])->rec["currently_attached"].get<bool>());
  }
  // The joiner's own pool record stays behind.
  EXPECT_EQ(t.all_of("pool").size(), 1u);
}

TEST_F(PoolOpsTest, AJoinerGetsTheLabelledNetworksOnItsLabelledNics) {
  std::string labelled;
  {
    Txn t(pool);
    labelled =
        network_create(t, {{"name_label", "l"}, {"label_VLAN", 70}, {"label", "up"}}).value();
    fold(pool, t);
  }
  {
    Txn j(joiner);
    ASSERT_EQ(code(set_field(j, joiner_pifs[0], "labels", json{"up"})), "OK");
    fold(joiner, j);
  }
  join();
  Txn t(pool, false);
  auto p = joiner_pifs_where(t, "eth0", 70);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(t.get(p[0])->rec["network"], labelled);
  EXPECT_EQ(t.get(joiner_pifs[0])->rec["labels"], json{"up"});
}

TEST_F(PoolOpsTest, ABondMadeInAPoolIsMadeOnEveryMemberWithTheSameNics) {
  join();
  Txn b(pool);
  // Undo the copied bonds: a pool with eth1 and eth2 free on both hosts.
  for (const auto& bond : b.all_of("Bond")) ASSERT_TRUE(bond_destroy(b, bond));
  auto net = network_create(b, {{"name_label", "b2"}}).value();
  auto members = b.where("PIF", Match{{"host", master}, {"VLAN", int64_t(-1)}});
  std::vector<std::string> two;
  for (const auto& p : members)
    if (b.get(p)->rec["device"] != "eth0" && b.get(p)->rec["physical"].get<bool>())
      two.push_back(p);
  ASSERT_EQ(two.size(), 2u);
  ASSERT_TRUE(pool_bond_create(b, net, two, "", "lacp", json::object()));
  std::set<std::string> hosts;
  for (const auto& bond : b.all_of("Bond")) {
    const json& m = b.get(b.get(bond)->rec["master"].get<std::string>())->rec;
    EXPECT_EQ(m["network"], net);
    EXPECT_EQ(b.get(bond)->rec["mode"], "lacp");
    hosts.insert(m["host"]);
  }
  EXPECT_EQ(hosts, (std::set<std::string>{master, joiner_host}));
}

TEST_F(PoolOpsTest, JoinRefusalsAreXenServers) {
  {
    Txn j(joiner);
    EXPECT_TRUE(bond_create(j, network_create(j, {{"name_label", "b"}}).value(),
                            {joiner_pifs[1], joiner_pifs[2]}, "", "balance-slb", json::object()));
    EXPECT_EQ(code(pool_join_checks(j, master_host())), "POOL_JOINING_HOST_HAS_BONDS");
  }
  {
    Txn j(joiner);
    EXPECT_TRUE(
        vlan_create(j, joiner_pifs[0], 5, network_create(j, {{"name_label", "x"}}).value()));
    EXPECT_EQ(code(pool_join_checks(j, master_host())),
              "POOL_JOINING_HOST_HAS_NON_MANAGEMENT_VLANS");
  }
  {
    Txn j(joiner);
    ASSERT_TRUE(pif_scan(j, joiner_host,
                         {{"eth7", "52:54:00:07:00:07", 1500, {"sriov"}, 4, "8086:10ed"}}));
    const std::string nic = j.where("PIF", "device", "eth7").front();
    ASSERT_TRUE(network_sriov_create(j, nic, network_create(j, {{"name_label", "s"}}).value()));
    EXPECT_EQ(code(pool_join_checks(j, master_host())), "POOL_JOINING_HOST_HAS_NETWORK_SRIOVS");
  }
  {
    Txn j(joiner);
    auto vm = vm_create(j, {{"name_label", "vm"}}).value();
    auto net = network_create(j, {{"name_label", "n"}}).value();
    auto vif = vif_create(j, {{"VM", vm}, {"network", net}, {"device", "0"}});
    ASSERT_TRUE(vif) << vif.error().to_string();
    ASSERT_TRUE(vif_plug(j, vif.value()));
    EXPECT_EQ(code(pool_join_checks(j, master_host())),
              "POOL_JOINING_HOST_CANNOT_HAVE_RUNNING_VMS");
  }
  json other = master_host();
  other["API_version_minor"] = 99;
  Txn j(joiner, false);
  auto st = pool_join_checks(j, other);
  ASSERT_EQ(code(st), "POOL_JOINING_HOST_MUST_HAVE_SAME_API_VERSION");
  EXPECT_EQ(st.error().params[1], "2.99");
}

TEST_F(PoolOpsTest, EjectTakesTheHostsObjectsAndRefusesTheMasterAndPluggedVifs) {
  join();
  Txn e(pool);
  EXPECT_EQ(code(pool_eject(e, master)), "HOST_CANNOT_DESTROY_SELF");
  auto vm = vm_create(e, {{"name_label", "vm"}}).value();
  json vmrec = e.get(vm)->rec;
  vmrec["resident_on"] = joiner_host;
  e.put(vm, Object{"VM", vmrec});
  auto vif = vif_create(e, {{"VM", vm}, {"network", vlan_nets[10]}, {"device", "0"}}).value();
  ASSERT_TRUE(vif_plug(e, vif));
  EXPECT_EQ(code(pool_eject(e, joiner_host)), "OPERATION_NOT_ALLOWED");
  ASSERT_TRUE(vif_unplug(e, vif));
  ASSERT_EQ(code(pool_eject(e, joiner_host)), "OK");
  EXPECT_FALSE(e.get(joiner_host));
  EXPECT_TRUE(e.where("PIF", "host", joiner_host).empty());
  EXPECT_FALSE(e.get(vm));
  EXPECT_FALSE(e.get(vif));
  for (const auto& v : e.all_of("VLAN"))
    EXPECT_EQ(e.get(e.get(v)->rec["tagged_PIF"].get<std::string>())->rec["host"], master);
  EXPECT_EQ(e.all_of("Bond").size(), 1u);
  EXPECT_TRUE(e.get(master, "host"));
}

}  // namespace
}  // namespace hvnet::model
