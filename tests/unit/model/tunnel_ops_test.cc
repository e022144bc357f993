// Tunnels on the object model: xapi's refusals and codes, the access PIF, one key per network
// shared by every host's tunnel, the remote VTEPs each host reaches, and what goes with an
// ejected host.
#include <gtest/gtest.h>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {
namespace {

std::string code(const Status& s) {
  return s ? "OK" : s.error().code;
}
template <typename T>
std::string code(const Result<T>& r) {
  return r ? "OK" : r.error().code;
}

// Three hosts of a pool in one database, each with eth0 (transport, 10.0.0.<n>) and eth1, eth2.
class TunnelOpsTest : public ::testing::Test {
 protected:
  TunnelOpsTest() : t(db) {
    for (int h = 0; h < 3; ++h) {
      if (h == 0) {
        hosts.push_back(ensure_host(t, "h0"));
      } else {  // (ensure_host makes the local host only)
        hosts.push_back(new_uuid());
        t.put(hosts.back(), Object{"host", default_record(*find_class("host"))});
      }
      std::vector<NicInfo> nics;
      for (int i = 0; i < 3; ++i)
        nics.push_back({"eth" + std::to_string(i),
                        "52:54:00:00:0" + std::to_string(h) + ":0" + std::to_string(i), 1500});
      auto pifs = pif_scan(t, hosts.back(), nics).value();
      eth.push_back(pifs);
    }
    ensure_pool(t, hosts[0]);
  }
  void address(int h) {
    ASSERT_TRUE(pif_plug(t, eth[h][0]));
    ASSERT_TRUE(pif_reconfigure_ip(t, eth[h][0], "Static", "10.0.0." + std::to_string(h + 1),
                                   "255.255.255.0", "", ""));
  }
  std::string net(const char* label) { return network_create(t, {{"name_label", label}}).value(); }
  const json& rec(const std::string& uuid) { return t.get(uuid)->rec; }

  Database db;
  Txn t;
  std::vector<std::string> hosts;
  std::vector<std::vector<std::string>> eth;
};

TEST_F(TunnelOpsTest, CreateFollowsXapisRefusalsAndMakesAPluggedAccessPif) {
  const std::string priv = net("private");
  // The transport PIF's own network is on the host already.
  EXPECT_EQ(code(tunnel_create(t, eth[0][0], rec(eth[0][0])["network"], "vxlan")),
            "NETWORK_ALREADY_CONNECTED");
  EXPECT_EQ(code(tunnel_create(t, eth[0][0], priv, "ipip")), "INVALID_VALUE");
  // The access PIF is plugged at once, which needs an IP configuration on the transport.
  EXPECT_EQ(code(tunnel_create(t, eth[0][0], priv, "vxlan")), "TRANSPORT_PIF_NOT_CONFIGURED");
  EXPECT_TRUE(t.where("tunnel", "transport_PIF", eth[0][0]).empty());
  address(0);
  auto tn = tunnel_create(t, eth[0][0], priv, "");  // xapi's default protocol
  ASSERT_TRUE(tn) << tn.error().code;
  const json tr = rec(tn.value());
  EXPECT_EQ(tr["protocol"], "gre");
  const json& access = rec(tr["access_PIF"]);
  EXPECT_EQ(access["device"], "tunnel0");
  EXPECT_EQ(access["network"], priv);
  EXPECT_EQ(access["host"], hosts[0]);
  EXPECT_TRUE(access["currently_attached"].get<bool>());
  EXPECT_FALSE(access["physical"].get<bool>());
  EXPECT_EQ(access["MAC"].get<std::string>().substr(0, 9), "00:16:3e:");
  EXPECT_TRUE(rec(eth[0][0])["currently_attached"].get<bool>());  // the transport came up too
  const json full = full_record(t, tr["access_PIF"]);
  EXPECT_EQ(full["tunnel_access_PIF_of"], json::array({tn.value()}));
  EXPECT_EQ(full_record(t, eth[0][0])["tunnel_transport_PIF_of"], json::array({tn.value()}));
  // The network is on the host now; an access PIF carries no tunnel, VLAN or bond.
  EXPECT_EQ(code(tunnel_create(t, eth[0][1], priv, "gre")), "NETWORK_ALREADY_CONNECTED");
  const std::string other = net("other");
  EXPECT_EQ(code(tunnel_create(t, tr["access_PIF"], other, "gre")), "IS_TUNNEL_ACCESS_PIF");
  EXPECT_EQ(code(vlan_create(t, tr["access_PIF"], 5, other)), "IS_TUNNEL_ACCESS_PIF");
  EXPECT_EQ(
      code(bond_create(t, other, {tr["access_PIF"], eth[0][1]}, "", "balance-slb", json::object())),
      "IS_TUNNEL_ACCESS_PIF");
  EXPECT_EQ(code(pif_forget(t, eth[0][0])), "PIF_TUNNEL_STILL_EXISTS");
  // A second tunnel on the host takes the next device name.
  auto second = tunnel_create(t, eth[0][0], other, "gre");
  ASSERT_TRUE(second);
  EXPECT_EQ(rec(rec(second.value())["access_PIF"])["device"], "tunnel1");
  ASSERT_TRUE(tunnel_destroy(t, tn.value()));
  EXPECT_FALSE(t.get(tr["access_PIF"]));
  EXPECT_FALSE(t.get(tn.value()));
}

TEST_F(TunnelOpsTest, ABondMemberCarriesNoTunnel) {
  const std::string bonded = net("bonded");
  ASSERT_TRUE(bond_create(t, bonded, {eth[0][1], eth[0][2]}, "", "active-backup", json::object()));
  EXPECT_EQ(code(tunnel_create(t, eth[0][1], net("p"), "vxlan")),
            "CANNOT_ADD_TUNNEL_TO_BOND_SLAVE");
}

TEST_F(TunnelOpsTest, ANetworksTunnelsShareOneKeyAndReachEachOther) {
  for (int h = 0; h < 3; ++h) address(h);
  const std::string a = net("a"), b = net("b");
  std::vector<std::string> ta;
  for (int h = 0; h < 3; ++h) {
    auto tn = tunnel_create(t, eth[h][0], a, "vxlan");
    ASSERT_TRUE(tn) << tn.error().to_string();
    ta.push_back(tn.value());
  }
  const std::string tb = tunnel_create(t, eth[1][0], b, "vxlan").value();
  for (const auto& tn : ta) EXPECT_EQ(tunnel_key(t, tn), 1u);
  EXPECT_EQ(tunnel_key(t, tb), 2u);
  // One protocol per network.
  EXPECT_EQ(code(tunnel_create(t, eth[0][0], b, "gre")), "INVALID_VALUE");
  // Each host reaches the others' transport addresses.
  EXPECT_EQ(tunnel_remotes(t, ta[0]), (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(tunnel_remotes(t, ta[2]), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_TRUE(tunnel_remotes(t, tb).empty());  // b is on host 1 alone
  json st = full_record(t, ta[0])["status"];
  EXPECT_EQ(st["active"], "true");
  EXPECT_EQ(st["key"], "1");
  EXPECT_EQ(st["remote_VTEPs"], "10.0.0.2,10.0.0.3");
  // A host whose transport loses its address drops out of the others' remotes.
  ASSERT_TRUE(pif_reconfigure_ip(t, eth[2][0], "None", "", "", "", ""));
  EXPECT_EQ(tunnel_remotes(t, ta[0]), std::vector<std::string>{"10.0.0.2"});
  st = full_record(t, ta[2])["status"];
  EXPECT_EQ(st["active"], "false");
  EXPECT_EQ(st["error"], "the transport PIF has no static IPv4 address");
  // External VTEPs join every host's remotes; bad ones are refused.
  ASSERT_TRUE(set_field(t, a, "external_VTEPs", json::array({"192.0.2.9", "192.0.2.9"})));
  EXPECT_EQ(rec(a)["external_VTEPs"], json::array({"192.0.2.9"}));
  EXPECT_EQ(tunnel_remotes(t, ta[0]), (std::vector<std::string>{"10.0.0.2", "192.0.2.9"}));
  for (const char* bad : {"224.0.0.1", "127.0.0.1", "0.0.0.0", "10.0.0", "x"})
    EXPECT_EQ(code(set_field(t, a, "external_VTEPs", json::array({bad}))),
              "INVALID_IP_ADDRESS_SPECIFIED")
        << bad;
  // The last tunnel of a network frees its key for the next network.
  ASSERT_TRUE(tunnel_destroy(t, tb));
  EXPECT_EQ(tunnel_key(t, tunnel_create(t, eth[1][0], net("c"), "gre").value()), 2u);
}

TEST_F(TunnelOpsTest, ANetworksMtuFollowsItsTransports) {
  for (int h = 0; h < 2; ++h) address(h);
  const std::string a = net("a"), g = net("g");  // MTU 1500 by default
  ASSERT_TRUE(tunnel_create(t, eth[0][0], a, "vxlan"));
  EXPECT_EQ(rec(a)["MTU"], 1450);  // 1500 - 20 (IPv4) - 8 (UDP) - 8 (VXLAN) - 14 (Ethernet)
  ASSERT_TRUE(tunnel_create(t, eth[0][0], g, "gre"));
  EXPECT_EQ(rec(g)["MTU"], 1458);  // 1500 - 20 - 8 (GRE with a key) - 14
  auto refused = set_field(t, a, "MTU", 1451);
  ASSERT_EQ(code(refused), "MTU_INVALID");
  EXPECT_EQ(refused.error().params, (std::vector<std::string>{"1451", "68", "1450"}));
  // A host's transport on a smaller MTU lowers the network for every host; a larger one does
  // not raise it.
  ASSERT_TRUE(tunnel_create(t, eth[1][0], a, "vxlan"));
  ASSERT_TRUE(set_field(t, rec(eth[1][0])["network"], "MTU", 1400));
  EXPECT_EQ(rec(a)["MTU"], 1350);
  ASSERT_TRUE(set_field(t, rec(eth[1][0])["network"], "MTU", 9000));
  EXPECT_EQ(rec(a)["MTU"], 1350);
  EXPECT_EQ(tunnel_mtu_limit(t, a), 1450);
  ASSERT_TRUE(set_field(t, a, "MTU", 1450));
}

TEST_F(TunnelOpsTest, AnEjectedHostTakesItsTunnelsAndAJoinerMayHaveNone) {
  for (int h = 0; h < 3; ++h) address(h);
  const std::string a = net("a");
  std::vector<std::string> ta;
  for (int h = 0; h < 3; ++h) ta.push_back(tunnel_create(t, eth[h][0], a, "vxlan").value());
  ASSERT_TRUE(pool_eject(t, hosts[2]));
  EXPECT_FALSE(t.get(ta[2]));
  EXPECT_EQ(tunnel_remotes(t, ta[0]), std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(t.all_of("tunnel").size(), 2u);
  // A host with tunnels of its own may not join a pool (xapi's rule).
  Database other;
  Txn j(other);
  const std::string h = ensure_host(j, "j");
  refresh_host_identity(j, h);
  refresh_host_identity(t, hosts[0]);
  const auto pifs = pif_scan(j, h, {{"eth0", "52:54:00:00:09:00", 1500}}).value();
  ASSERT_TRUE(pif_plug(j, pifs[0]));
  ASSERT_TRUE(pif_reconfigure_ip(j, pifs[0], "Static", "10.0.0.9", "255.255.255.0", "", ""));
  ASSERT_TRUE(tunnel_create(j, pifs[0], network_create(j, {{"name_label", "x"}}).value(), "gre"));
  EXPECT_EQ(code(pool_join_checks(j, rec(hosts[0]))), "POOL_JOINING_HOST_HAS_TUNNELS");
}

}  // namespace
}  // namespace hvnet::model
