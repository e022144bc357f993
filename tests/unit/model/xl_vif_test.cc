// The xl vif specification as people write it, and what hvnet makes of it.
#include "model/xl_vif.h"

#include <gtest/gtest.h>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {
namespace {

std::string code_of(const Result<std::vector<XlVif>>& r) {
  return r ? "OK" : r.error().code;
}

TEST(XlVif, OneElementWithEveryKey) {
  auto r = parse_xl_vifs(
      "mac=00:16:3E:00:00:11, bridge=xenbr1, ip=10.0.0.5 10.0.0.6, "
      "script=/etc/xen/scripts/vif-route,"
      " vifname=web0, rate=10Mb/s@20ms, model=e1000, type=ioemu");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r.value().size(), 1u);
  const XlVif& v = r.value()[0];
  EXPECT_EQ(v.mac, "00:16:3e:00:00:11");
  EXPECT_EQ(v.bridge, "xenbr1");
  EXPECT_EQ(v.ips, (std::vector<std::string>{"10.0.0.5", "10.0.0.6"}));
  EXPECT_EQ(v.script, "route");
  EXPECT_EQ(v.vifname, "web0");
  EXPECT_EQ(v.rate_kbps, 1250u);  // 10 Mbit/s = 1 250 000 bytes/s
  EXPECT_EQ(v.rate_interval_us, 20000u);
  EXPECT_EQ(v.model, "e1000");
  EXPECT_EQ(v.type, "ioemu");
}

TEST(XlVif, WholeLinesWithQuotesSpacesAndTrailingCommas) {
  auto r = parse_xl_vifs("vif = [ 'mac=00:16:3e:00:00:11, bridge=xenbr0', \"bridge=xenbr1\", ]");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r.value().size(), 2u);
  EXPECT_EQ(r.value()[1].bridge, "xenbr1");
  auto empty = parse_xl_vifs("vif=['']");
  ASSERT_TRUE(empty);
  ASSERT_EQ(empty.value().size(), 1u);
  EXPECT_EQ(empty.value()[0], XlVif{});
  auto one = parse_xl_vifs("  'bridge=xenbr0 , script=vif-bridge'  ");  // an element as pasted
  ASSERT_TRUE(one);
  EXPECT_EQ(one.value()[0].script, "bridge");
  EXPECT_EQ(parse_xl_vifs("rate=1MB/s").value()[0].rate_kbps, 1000u);
  EXPECT_EQ(parse_xl_vifs("rate=1MB/s").value()[0].rate_interval_us, 50000u);  // xl's default
  EXPECT_EQ(parse_xl_vifs("rate=8Kb/s@1s").value()[0].rate_kbps, 1u);
}

TEST(XlVif, BadKeysAndValuesAreRefusedWithWhatWasWrong) {
  struct Case {
    const char* text;
    const char* code;
    std::vector<std::string> params;
  } cases[] = {
      {"colour=blue", "INVALID_VALUE", {"vif", "colour"}},
      {"bridge", "INVALID_VALUE", {"vif", "bridge"}},
      {"mac=01:00:5e:00:00:01", "MAC_INVALID", {"01:00:5e:00:00:01"}},
      {"mac=00:16:3e:00:00", "MAC_INVALID", {"00:16:3e:00:00"}},
      {"bridge=a bridge", "INVALID_VALUE", {"bridge", "a bridge"}},
      {"bridge=averyverylongbridge", "INVALID_VALUE", {"bridge", "averyverylongbridge"}},
      {"ip=10.0.0.300", "INVALID_VALUE", {"ip", "10.0.0.300"}},
      {"script=vif-openvswitch", "INVALID_VALUE", {"script", "vif-openvswitch"}},
      {"rate=10Mbit", "INVALID_VALUE", {"rate", "10Mbit"}},
      {"rate=10Mb/s@20m", "INVALID_VALUE", {"rate", "10Mb/s@20m"}},
      {"rate=0B/s", "INVALID_VALUE", {"rate", "0B/s"}},
      {"rate=99999999999999999999GB/s", "INVALID_VALUE", {"rate", "99999999999999999999GB/s"}},
      {"rate=18446744073GB/s", "INVALID_VALUE", {"rate", "18446744073GB/s"}},
      {"type=pv", "INVALID_VALUE", {"type", "pv"}},
      {"mac=00:16:3e:00:00:11, mac=00:16:3e:00:00:12", "INVALID_VALUE", {"vif", "mac given twice"}},
      {"vif = [ 'bridge=xenbr0' 'bridge=xenbr1' ]", "INVALID_VALUE", {"vif", "'bridge=xenbr1' "}},
      {"vif = [ 'bridge=xenbr0", "INVALID_VALUE", {"vif", "vif = [ 'bridge=xenbr0"}},
      {"vif = []", "INVALID_VALUE", {"vif", "an empty list"}},
  };
  for (const auto& c : cases) {
    auto r = parse_xl_vifs(c.text);
    ASSERT_EQ(code_of(r), c.code) << c.text;
    EXPECT_EQ(r.error().params, c.params) << c.text;
  }
  EXPECT_EQ(code_of(parse_xl_vifs(std::string(5000, ' '))), "INVALID_VALUE");
  EXPECT_EQ(code_of(parse_xl_vifs("bridge=\xff")), "INVALID_VALUE");
  std::string many = "vif = [";
  for (int i = 0; i < 17; ++i) many += "'',";
  EXPECT_EQ(code_of(parse_xl_vifs(many + "]")), "INVALID_VALUE");
}

class XenModeTest : public ::testing::Test {
 protected:
  XenModeTest() : t(db) {
    host = ensure_host(t, "h1");
    pifs = pif_scan(t, host, {{"eth0", "52:54:00:00:00:01", 1500}}).value();
    vm = vm_create(t, {{"name_label", "vm"}}).value();
  }
  std::string code(const Status& s) { return s ? "OK" : s.error().code; }
  template <typename T>
  std::string code(const Result<T>& r) {
    return r ? "OK" : r.error().code;
  }
  std::string net(const char* label) { return network_create(t, {{"name_label", label}}).value(); }
  Database db;
  Txn t;
  std::string host, vm;
  std::vector<std::string> pifs;
};

TEST_F(XenModeTest, ModesAndSubnetsAreChecked) {
  const std::string n = net("routed");
  EXPECT_EQ(t.get(n)->rec["mode"], "bridge");
  EXPECT_EQ(code(set_field(t, n, "mode", "tunnel")), "INVALID_VALUE");
  EXPECT_EQ(code(set_field(t, n, "mode", "nat")), "INVALID_VALUE");  // no subnet yet
  for (const char* bad : {"10.0.0.0/24", "10.0.0.255/24", "10.0.0.1/31", "10.0.0.1", "x/24"})
    EXPECT_EQ(code(set_field(t, n, "subnet", bad)), "INVALID_CIDR_ADDRESS_SPECIFIED") << bad;
  ASSERT_EQ(code(set_field(t, n, "subnet", "192.168.122.1/24")), "OK");
  ASSERT_EQ(code(set_field(t, n, "mode", "NAT")), "OK");
  EXPECT_EQ(t.get(n)->rec["mode"], "nat");
  EXPECT_EQ(code(set_field(t, n, "subnet", "")), "INVALID_VALUE");
  EXPECT_EQ(code(set_field(t, net("other"), "subnet", "192.168.122.129/25")), "INVALID_VALUE");
  // No uplink on a NAT network; no NAT on a network with one.
  EXPECT_EQ(code(vlan_create(t, pifs[0], 5, n)), "NETWORK_INCOMPATIBLE_MODE");
  EXPECT_EQ(code(set_field(t, t.get(pifs[0])->rec["network"], "mode", "route")),
            "NETWORK_CONTAINS_PIF");
  // The mode stays while a VIF is attached.
  t.set_field(vm, "power_state", "Running");
  const std::string vif = vif_create(t, {{"VM", vm}, {"network", n}, {"device", "0"}}).value();
  ASSERT_TRUE(vif_plug(t, vif));
  EXPECT_EQ(code(set_field(t, n, "mode", "route")), "NETWORK_CONTAINS_VIF");
  // Port forwards.
  ASSERT_EQ(code(set_field(t, n, "port_forwards", json{"tcp:8080=192.168.122.10:80"})), "OK");
  for (const char* bad : {"sctp:1=192.168.122.10:80", "tcp:8080=10.0.0.1:80",
                          "tcp:70000=192.168.122.10:80", "tcp:8080=192.168.122.1:80"})
    EXPECT_EQ(code(set_field(t, n, "port_forwards", json{bad})), "INVALID_VALUE") << bad;
  EXPECT_EQ(code(set_field(t, n, "port_forwards",
                           json{"udp:53=192.168.122.10:53", "udp:53=192.168.122.11:53"})),
            "INVALID_VALUE");
}

TEST_F(XenModeTest, XlSpecsBecomeVifsAllOrNothing) {
  const std::string routed = net("routed");
  ASSERT_TRUE(set_field(t, routed, "mode", "route"));
  const std::string routed_bridge = t.get(routed)->rec["bridge"];
  auto specs = parse_xl_vifs(
      "vif = [ '', 'script=vif-route, ip=10.1.0.5, rate=1MB/s@20ms, vifname=web0', "
      "'mac=00:16:3e:00:00:22,bridge=" +
      routed_bridge + "' ]");
  ASSERT_TRUE(specs);
  auto made = vifs_from_xl(t, vm, specs.value());
  ASSERT_TRUE(made) << made.error().to_string();
  ASSERT_EQ(made.value().size(), 3u);
  const json& a = t.get(made.value()[0])->rec;
  EXPECT_EQ(t.get(a["network"])->rec["bridge"], "xenbr0");
  EXPECT_TRUE(a["MAC"].get<std::string>().starts_with("00:16:3e"));
  EXPECT_EQ(a["device"], "0");
  const json& b = t.get(made.value()[1])->rec;
  EXPECT_EQ(b["network"], routed);
  EXPECT_EQ(b["device"], "1");
  EXPECT_EQ(b["ipv4_allowed"], json{"10.1.0.5"});
  EXPECT_EQ(b["qos_algorithm_type"], "ratelimit");
  EXPECT_EQ(b["qos_algorithm_params"], (json{{"kbps", "1000"}, {"timeslice_us", "20000"}}));
  EXPECT_EQ(vif_device_name(t, made.value()[1]), "web0");
  EXPECT_EQ(t.get(made.value()[2])->rec["MAC"], "00:16:3e:00:00:22");
  // A script that disagrees with the network, an unknown bridge, a vifname in use.
  auto bad = [&](const char* text) { return vifs_from_xl(t, vm, parse_xl_vifs(text).value()); };
  EXPECT_EQ(code(bad("bridge=xenbr0, script=vif-nat")), "INVALID_VALUE");
  EXPECT_EQ(code(bad("script=vif-nat")), "INVALID_VALUE");  // no nat network here
  EXPECT_EQ(code(bad("bridge=xenbr7")), "INVALID_VALUE");
  EXPECT_EQ(code(bad("vifname=web0")), "INVALID_VALUE");
  EXPECT_EQ(code(bad("vifname=eth0")), "INVALID_VALUE");
}

}  // namespace
}  // namespace hvnet::model
