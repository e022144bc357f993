// A write reconfigures what it changed: the reconciler's plan for one VLAN more on a trunk that
// carries many holds that VLAN alone, the switch applies it without touching the other VLANs'
// logical ports, and the model's lookups follow every put and erase.
#include "control/reconciler.h"

#include <gtest/gtest.h>

#include "../frames.h"
#include "../mem_switch.h"
#include "model/ops.h"
#include "model/records.h"
#include "util/ipv4.h"

namespace hvnet {
namespace {

using model::json;

// A model of one host with one NIC, folded change by change as the Manager does.
struct Model {
  model::Database db;
  std::string pif;

  Model() {
    write([&](model::Txn& t) {
      const std::string host = model::ensure_host(t, "h");
      pif = model::pif_scan(t, host, {{"eth0", "52:54:00:00:00:01", 1500}}).value().front();
      ASSERT_TRUE(model::pif_plug(t, pif));
    });
  }
  // Runs `op`, folds what it staged, and returns the commit with what it replaced.
  template <typename F>
  std::pair<std::vector<store::Change>, Reconciler::Before> write(F&& op) {
    model::Txn t(db);
    op(t);
    std::vector<store::Change> changes;
    Reconciler::Before before;
    for (const auto& [uuid, o] : t.changes()) {
      const model::Object* was = db.get(uuid);
      before[uuid] = was ? std::optional<model::Object>(*was) : std::nullopt;
      if (o) {
        changes.push_back({o->cls, uuid, was ? store::Op::kMod : store::Op::kAdd, o->rec});
      } else if (was) {
        changes.push_back({was->cls, uuid, store::Op::kDel, nullptr});
      }
    }
    for (const auto& [uuid, o] : t.changes()) {
      if (o)
        db.put(uuid, *o);
      else
        db.erase(uuid);
    }
    return {changes, before};
  }
  std::string vlan(model::Txn& t, int tag) {
    auto net = model::network_create(t, {{"name_label", "v" + std::to_string(tag)}});
    return model::vlan_create(t, pif, tag, net.value()).value();
  }
};

// A trunk carrying VLANs 2 .. 2+vlans-1, on a switch that runs the whole model.
struct Busy {
  Model m;
  Reconciler r;
  test::MemSwitch sw;
  explicit Busy(int vlans) {
    m.write([&](model::Txn& t) {
      for (int tag = 2; tag < 2 + vlans; ++tag) m.vlan(t, tag);
    });
    model::Txn view(m.db, false);
    EXPECT_TRUE(sw.ctl.apply(r.rebuild(view)));
  }
};

TEST(Reconciler, OneVlanMoreOnABusyTrunkIsOneVlanItem) {
  Busy b(200);
  Model& m = b.m;
  Reconciler& r = b.r;
  test::MemSwitch& sw = b.sw;
  const auto snap_before = sw.slot.get();
  const auto opens = sw.opens;

  // VLAN.create on the trunk: the network is new (a bridge), the VLAN is new (a tag).
  std::string vlan, net;
  auto [changes, before] = m.write([&](model::Txn& t) {
    net = model::network_create(t, {{"name_label", "new"}}).value();
    vlan = model::vlan_create(t, m.pif, 3000, net).value();
  });
  // The trunk PIF itself was already plugged: the write does not touch it.
  for (const auto& c : changes) EXPECT_NE(c.uuid, m.pif);
  model::Txn view(m.db, false);
  auto plan = r.plan(view, changes, before);
  const TopologyDelta& d = plan.delta;
  ASSERT_EQ(d.set_networks.size(), 1u);
  ASSERT_EQ(d.set_vlans.size(), 1u);
  EXPECT_EQ(d.set_vlans[0], (VlanItem{"eth0", 3000, d.set_networks[0].name}));
  EXPECT_TRUE(d.set_ports.empty());
  EXPECT_TRUE(d.del_ports.empty() && d.del_vlans.empty() && d.del_networks.empty());
  ASSERT_TRUE(sw.ctl.apply(d));
  r.adopt(std::move(plan));

  // The switch: no port re-opened, every other VLAN keeps its logical port as it was.
  EXPECT_EQ(sw.opens, opens);
  const auto snap = sw.slot.get();
  const PortEntry& trunk_was = snap_before->ports[0];
  const PortEntry& trunk = snap->ports[0];
  for (int tag = 2; tag < 202; ++tag) {
    ASSERT_NE(trunk.vid_map[tag], kNoLport);
    EXPECT_EQ(trunk.vid_map[tag], trunk_was.vid_map[tag]);
    EXPECT_EQ(snap->lports[trunk.vid_map[tag]], snap_before->lports[trunk_was.vid_map[tag]]);
  }
  ASSERT_NE(trunk.vid_map[3000], kNoLport);
  EXPECT_EQ(snap->bridges[snap->lports[trunk.vid_map[3000]].bridge].name, d.set_networks[0].name);
  // The incremental state equals the whole model's.
  EXPECT_TRUE(topology_diff(sw.ctl.topology(), Reconciler().rebuild(view)).empty());

  // VLAN.destroy: one VLAN item goes, the rest stays.
  auto [gone, replaced] =
      m.write([&](model::Txn& t) { ASSERT_TRUE(model::vlan_destroy(t, vlan)); });
  model::Txn after(m.db, false);
  auto undo = r.plan(after, gone, replaced);
  ASSERT_EQ(undo.delta.del_vlans.size(), 1u);
  EXPECT_EQ(undo.delta.del_vlans[0], (std::pair<std::string, uint16_t>{"eth0", 3000}));
  EXPECT_TRUE(undo.delta.set_vlans.empty() && undo.delta.set_ports.empty() &&
              undo.delta.del_ports.empty());
  ASSERT_TRUE(sw.ctl.apply(undo.delta));
  EXPECT_EQ(sw.slot.get()->ports[0].vid_map[3000], kNoLport);
}

TEST(Reconciler, UnpluggingTheTrunkTakesItsVlansAndPluggingBringsThemBack) {
  Busy b(10);
  Model& m = b.m;
  Reconciler& r = b.r;
  test::MemSwitch& sw = b.sw;
  const json whole = topology_to_json(sw.ctl.topology());
  for (bool attached : {false, true}) {
    auto [changes, before] =
        m.write([&](model::Txn& t) { t.set_field(m.pif, "currently_attached", attached); });
    model::Txn now(m.db, false);
    auto plan = r.plan(now, changes, before);
    ASSERT_TRUE(sw.ctl.apply(plan.delta));
    r.adopt(std::move(plan));
    EXPECT_EQ(sw.ctl.topology().ports.size(), attached ? 1u : 0u);
  }
  EXPECT_EQ(topology_to_json(sw.ctl.topology()), whole);
}

// Tunnels of a pool of three seen from host 0: its VTEP on the transport PIF, remotes that
// follow the other hosts, tags that stay while their networks stay.
TEST(Reconciler, ActiveVxlanTunnelsBecomeOneVtepWhoseRemotesFollowThePool) {
  Model m;  // host 0, eth0 plugged
  std::vector<std::string> hosts, transport;
  std::string a, b;
  m.db.set_local_host(m.db.of_class("host").begin()->c_str());
  m.write([&](model::Txn& t) {
    hosts.push_back(model::local_host(t));
    transport.push_back(m.pif);
    for (int h = 1; h < 3; ++h) {
      hosts.push_back(model::new_uuid());
      t.put(hosts.back(), model::Object{"host", model::default_record(*model::find_class("host"))});
      transport.push_back(
          model::pif_scan(t, hosts.back(),
                          {{"eth0", "52:54:00:00:0" + std::to_string(h) + ":01", 1500}})
              .value()
              .front());
    }
    for (int h = 0; h < 3; ++h) ASSERT_TRUE(model::pif_plug(t, transport[h]));
    for (int h = 0; h < 3; ++h)
      ASSERT_TRUE(model::pif_reconfigure_ip(
          t, transport[h], "Static", "10.0.0." + std::to_string(h + 1), "255.255.255.0", "", ""));
    a = model::network_create(t, {{"name_label", "a"}, {"MTU", 1450}}).value();
    b = model::network_create(t, {{"name_label", "b"}}).value();
    for (int h = 0; h < 2; ++h) ASSERT_TRUE(model::tunnel_create(t, transport[h], a, "vxlan"));
    ASSERT_TRUE(model::tunnel_create(t, transport[0], b, "vxlan"));
  });
  Reconciler r;
  test::MemSwitch sw;
  model::Txn view(m.db, false);
  const TopologySpec spec = r.rebuild(view);
  ASSERT_TRUE(sw.ctl.apply(spec));
  const std::string a_bridge = view.get(a)->rec["bridge"], b_bridge = view.get(b)->rec["bridge"];
  const PortSpec* vtep = nullptr;
  for (const auto& p : spec.ports)
    if (p.kind == PortKind::kVxlan) vtep = &p;
  ASSERT_TRUE(vtep);
  EXPECT_EQ(vtep->name, "vx-xenbr0");
  EXPECT_EQ(ipv4_text(vtep->tunnel.local), "10.0.0.1");
  ASSERT_EQ(vtep->tunnel.nets.size(), 2u);
  EXPECT_EQ(vtep->tunnel.nets[0].vni, 1u);  // a
  EXPECT_EQ(vtep->tunnel.nets[0].mtu, 1450u);
  ASSERT_EQ(vtep->tunnel.nets[0].remotes.size(), 1u);
  EXPECT_EQ(ipv4_text(vtep->tunnel.nets[0].remotes[0]), "10.0.0.2");
  EXPECT_TRUE(vtep->tunnel.nets[1].remotes.empty());  // b is on this host alone
  EXPECT_EQ(vtep->vlans, (std::vector<VlanSpec>{{1, a_bridge}, {2, b_bridge}}));

  // Host 2 joins network b: this host's VTEP gets a remote, no network changes its tag.
  auto [changes, before] = m.write(
      [&](model::Txn& t) { ASSERT_TRUE(model::tunnel_create(t, transport[2], b, "vxlan")); });
  model::Txn now(m.db, false);
  auto plan = r.plan(now, changes, before);
  ASSERT_EQ(plan.delta.set_ports.size(), 1u);
  const PortSpec& next = plan.delta.set_ports[0];
  EXPECT_EQ(next.name, "vx-xenbr0");
  ASSERT_EQ(next.tunnel.nets[1].remotes.size(), 1u);
  EXPECT_EQ(ipv4_text(next.tunnel.nets[1].remotes[0]), "10.0.0.3");
  EXPECT_TRUE(plan.delta.set_vlans.empty() && plan.delta.del_vlans.empty() &&
              plan.delta.del_ports.empty());
  ASSERT_TRUE(sw.ctl.apply(plan.delta));
  r.adopt(std::move(plan));

  // Network a's tunnel here goes: its tag goes, b keeps tag 2.
  auto [gone, replaced] = m.write([&](model::Txn& t) {
    for (const auto& tn : t.where("tunnel", "transport_PIF", transport[0]))
      if (t.get(t.get(tn)->rec["access_PIF"].get<std::string>())->rec["network"] == a)
        ASSERT_TRUE(model::tunnel_destroy(t, tn));
  });
  model::Txn after(m.db, false);
  auto undo = r.plan(after, gone, replaced);
  ASSERT_EQ(undo.delta.set_ports.size(), 1u);
  EXPECT_EQ(undo.delta.set_ports[0].vlans, (std::vector<VlanSpec>{{2, b_bridge}}));
  EXPECT_EQ(undo.delta.del_vlans,
            (std::vector<std::pair<std::string, uint16_t>>{{"vx-xenbr0", 1}}));
  ASSERT_TRUE(sw.ctl.apply(undo.delta));
  r.adopt(std::move(undo));

  // Host 2 is ejected: network b has no remote left.
  auto [ej, ej_before] =
      m.write([&](model::Txn& t) { ASSERT_TRUE(model::pool_eject(t, hosts[2])); });
  model::Txn ejected(m.db, false);
  auto p3 = r.plan(ejected, ej, ej_before);
  ASSERT_EQ(p3.delta.set_ports.size(), 1u);
  EXPECT_TRUE(p3.delta.set_ports[0].tunnel.nets[0].remotes.empty());
}

TEST(SwitchController, ADeltaIsValidatedAgainstTheStateItLeadsTo) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json({{"networks", {{{"name", "a"}}, {{"name", "b"}}}},
                             {"ports", {{{"name", "eth0"}, {"type", "pif"}, {"network", "a"}}}}}));
  const auto gen = sw.slot.generation();
  TopologyDelta d;
  d.set_vlans.push_back({"eth0", 5, "nowhere"});
  EXPECT_EQ(sw.ctl.apply(d).error().code, "HANDLE_INVALID");
  d.set_vlans = {{"eth0", 5, "a"}};  // its native network again
  EXPECT_EQ(sw.ctl.apply(d).error().code, "NETWORK_ALREADY_CONNECTED");
  d.set_vlans = {{"eth0", 4095, "b"}};
  EXPECT_EQ(sw.ctl.apply(d).error().code, "VLAN_TAG_INVALID");
  d.set_vlans = {{"eth0", 5, "b"}};
  TopologyDelta gone;
  gone.del_networks = {"b"};
  ASSERT_TRUE(sw.ctl.apply(d));
  EXPECT_EQ(sw.ctl.apply(gone).error().code, "NETWORK_IN_USE");  // eth0.5 is on it
  EXPECT_EQ(sw.slot.generation(), gen + 1);                      // only the valid one published
  gone.del_vlans = {{"eth0", 5}};
  ASSERT_TRUE(sw.ctl.apply(gone));  // the VLAN and its network in one change
  EXPECT_EQ(sw.ctl.topology().networks.size(), 1u);
}

TEST(Database, LookupsFollowPutsAndErases) {
  model::Database db;
  model::Txn t(db);
  EXPECT_TRUE(t.where("VLAN", "tag", 5).empty());  // builds the index, empty
  db.put("v1", {"VLAN", {{"tag", 5}, {"tagged_PIF", "p"}}});
  db.put("v2", {"VLAN", {{"tag", "5"}, {"tagged_PIF", "p"}}});  // a string is another value
  EXPECT_EQ(t.where("VLAN", "tag", 5), std::vector<std::string>{"v1"});
  EXPECT_EQ(t.where("VLAN", model::Match{{"tagged_PIF", "p"}, {"tag", "5"}}),
            std::vector<std::string>{"v2"});
  db.put("v1", {"VLAN", {{"tag", 6}, {"tagged_PIF", "p"}}});
  EXPECT_TRUE(t.where("VLAN", "tag", 5).empty());
  // Staged objects count, and hide the stored ones they replace.
  t.put("v3", {"VLAN", {{"tag", 5}}});
  t.set_field("v1", "tag", 5);
  EXPECT_EQ(t.where("VLAN", "tag", 5), (std::vector<std::string>{"v1", "v3"}));
  t.erase("v1");
  EXPECT_EQ(t.where("VLAN", "tag", 5), std::vector<std::string>{"v3"});
  EXPECT_TRUE(t.any("VLAN", "tag", 5));
  db.erase("v2");
  EXPECT_FALSE(t.any("VLAN", "tag", "5"));
  // A field set to the value it holds stages nothing.
  model::Txn u(db);
  u.set_field("v1", "tag", 6);
  EXPECT_TRUE(u.empty());
}

// Guest VLAN tagging: a VIF on a network with VLAN 4095 on eth0 is a trunk whose tags 10 and 20
// share the L2 domain of eth0's VLAN 10 and 20 networks (and their VIFs, untagged); untagged
// frames are eth0's own network; a tag outside trunk_VLANs is dropped as vlan_not_in_trunk. A
// VLAN created later, or a list changed, reaches the trunk VIF alone.
TEST(Reconciler, TrunkVifsJoinTheUplinksVlanNetworks) {
  Model m;
  Reconciler r;
  test::MemSwitch sw;
  std::string trunk_net, v10, v20, v30;
  m.write([&](model::Txn& t) {
    auto net = [&](const char* label) {
      return model::network_create(t, {{"name_label", label}}).value();
    };
    trunk_net = net("trunk");
    v10 = net("v10"), v20 = net("v20"), v30 = net("v30");
    ASSERT_TRUE(model::vlan_create(t, m.pif, 10, v10));
    ASSERT_TRUE(model::vlan_create(t, m.pif, 20, v20));
    ASSERT_TRUE(model::vlan_create(t, m.pif, 30, v30));
    ASSERT_TRUE(model::vlan_create(t, m.pif, model::kTrunkVlanTag, trunk_net));
    ASSERT_TRUE(model::set_field(t, trunk_net, "trunk_VLANs", json{"10-20"}));
    auto vm = model::vm_create(t, {{"name_label", "vm"}}).value();
    auto vif = [&](const std::string& n, const char* dev, const char* mac) {
      auto v = model::vif_create(t, {{"VM", vm}, {"network", n}, {"device", dev}, {"MAC", mac}});
      ASSERT_TRUE(model::vif_plug(t, v.value()));
    };
    vif(trunk_net, "0", "00:16:3e:00:00:01");
    vif(v10, "1", "00:16:3e:00:00:10");
    vif(v20, "2", "00:16:3e:00:00:20");
  });
  model::Txn view(m.db, false);
  ASSERT_TRUE(sw.ctl.apply(r.rebuild(view)));
  MemPort &tr = sw.port("vif1.0"), &a10 = sw.port("vif1.1"), &a20 = sw.port("vif1.2"),
          &eth0 = sw.port("eth0");
  auto sent = [](MemPort& p) { return p.take_sent(); };

  tr.inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01", 10));
  sw.step();
  auto up = sent(eth0);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(test::frame_vid(up[0].bytes), 10);
  auto in10 = sent(a10);
  ASSERT_EQ(in10.size(), 1u);
  EXPECT_EQ(test::frame_vid(in10[0].bytes), -1);  // the access VIF sees it untagged
  EXPECT_TRUE(sent(a20).empty());

  a20.inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:20"));
  sw.step();
  auto back = sent(tr);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(test::frame_vid(back[0].bytes), 20);  // to the trunk VIF, tagged
  (void)sent(eth0);

  tr.inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));  // untagged: eth0's own
  sw.step();
  up = sent(eth0);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(test::frame_vid(up[0].bytes), -1);
  EXPECT_TRUE(sent(a10).empty() && sent(a20).empty());

  const uint64_t refused = sw.dropped(DropReason::kVlanNotInTrunk);
  tr.inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01", 30));
  sw.step();
  EXPECT_TRUE(sent(eth0).empty());
  EXPECT_EQ(sw.dropped(DropReason::kVlanNotInTrunk), refused + 1);

  // VLAN 30 allowed: one VLAN item on the trunk VIF, the port itself untouched.
  auto [changes, before] = m.write([&](model::Txn& t) {
    ASSERT_TRUE(model::set_field(t, trunk_net, "trunk_VLANs", json{"10-20", "30"}));
  });
  model::Txn now(m.db, false);
  auto plan = r.plan(now, changes, before);
  EXPECT_TRUE(plan.delta.set_ports.empty() && plan.delta.del_ports.empty());
  ASSERT_EQ(plan.delta.set_vlans.size(), 1u);
  EXPECT_EQ(plan.delta.set_vlans[0].port, "vif1.0");
  EXPECT_EQ(plan.delta.set_vlans[0].tag, 30);
  ASSERT_TRUE(sw.ctl.apply(plan.delta));
  r.adopt(std::move(plan));
  tr.inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01", 30));
  sw.step();
  up = sent(eth0);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(test::frame_vid(up[0].bytes), 30);

  // A new VLAN 15 on eth0 reaches the trunk VIF; the native VLAN moves to 20.
  auto [c2, b2] = m.write([&](model::Txn& t) {
    auto v15 = model::network_create(t, {{"name_label", "v15"}}).value();
    ASSERT_TRUE(model::vlan_create(t, m.pif, 15, v15));
    ASSERT_TRUE(model::set_field(t, trunk_net, "native_VLAN", 20));
  });
  model::Txn later(m.db, false);
  auto p2 = r.plan(later, c2, b2);
  ASSERT_TRUE(sw.ctl.apply(p2.delta));
  r.adopt(std::move(p2));
  EXPECT_TRUE(topology_diff(sw.ctl.topology(), Reconciler().rebuild(later)).empty());
  const PortSpec* vif = nullptr;
  const TopologySpec whole = Reconciler().rebuild(later);
  for (const auto& p : whole.ports)
    if (p.name == "vif1.0") vif = &p;
  ASSERT_NE(vif, nullptr);
  EXPECT_TRUE(vif->vlan_trunk);
  std::vector<uint16_t> tags;
  for (const auto& v : vif->vlans) tags.push_back(v.tag);
  EXPECT_EQ(tags, (std::vector<uint16_t>{10, 15, 30}));  // 20 is native: untagged
  tr.inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  sw.step();
  ASSERT_EQ(sent(a20).size(), 1u);
  up = sent(eth0);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(test::frame_vid(up[0].bytes), 20);
}

}  // namespace
}  // namespace hvnet
