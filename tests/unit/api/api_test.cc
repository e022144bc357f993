// The XenAPI method table over a real Manager, SQLite store and in-memory data plane.
#include "api/api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "../frames.h"
#include "../mem_switch.h"
#include "../temp_db.h"
#include "api/http_server.h"
#include "api/wire.h"
#include "store/sqlite_store.h"

namespace hvnet::api {
namespace {

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() {
    EXPECT_TRUE(store_.open(db_.path));
    mgr_ = std::make_unique<Manager>(store_, &sw_.ctl, [] {
      return std::vector<model::NicInfo>{{"eth0", "52:54:00:00:00:01", 1500}};
    });
    EXPECT_TRUE(mgr_->start("host1"));
    api_ = std::make_unique<Api>(*mgr_, Credentials{"root", "secret"});
    session_ = call0("session.login_with_password", {"root", "secret"}).value().get<std::string>();
  }
  Result<json> call0(const std::string& m, json params, Origin o = Origin::kNetwork) {
    return api_->call(m, params, o);
  }
  Result<json> call(const std::string& m, json args = json::array()) {
    json p = json::array({session_});
    for (auto& a : args) p.push_back(a);
    return api_->call(m, p, Origin::kNetwork);
  }
  std::string code(const Result<json>& r) { return r ? "OK" : r.error().code; }

  test::TempDb db_{"api"};
  test::MemSwitch sw_;
  store::SqliteStore store_;
  std::unique_ptr<Manager> mgr_;
  std::unique_ptr<Api> api_;
  std::string session_;
};

TEST_F(ApiTest, SessionsAndDispatchErrors) {
  EXPECT_EQ(code(call0("session.login_with_password", {"root", "wrong"})),
            "SESSION_AUTHENTICATION_FAILED");
  EXPECT_EQ(code(call0("session.login_with_password", {"root", "wrong"}, Origin::kLocal)), "OK");
  EXPECT_EQ(code(call0("network.get_all", {"OpaqueRef:nope"})), "SESSION_INVALID");
  EXPECT_EQ(code(call("network.frobnicate")), "MESSAGE_METHOD_UNKNOWN");
  auto r = call("network.get_record");
  ASSERT_EQ(code(r), "MESSAGE_PARAMETER_COUNT_MISMATCH");
  EXPECT_EQ(r.error().params, (std::vector<std::string>{"network.get_record", "2", "1"}));
  EXPECT_EQ(code(call("network.get_record", {"OpaqueRef:missing"})), "HANDLE_INVALID");
  EXPECT_EQ(code(call("network.get_by_uuid", {"missing"})), "UUID_INVALID");
  EXPECT_EQ(code(call("session.logout")), "OK");
  EXPECT_EQ(code(call("network.get_all")), "SESSION_INVALID");
}

TEST_F(ApiTest, GenericGettersSettersAndMaps) {
  auto n = call("network.create", {{{"name_label", "net"}, {"MTU", "9000"}}});
  ASSERT_TRUE(n);
  std::string ref = n.value();
  EXPECT_EQ(call("network.get_MTU", {ref}).value(), 9000);
  EXPECT_EQ(code(call("network.set_name_label", {ref, "renamed"})), "OK");
  EXPECT_EQ(call("network.get_by_name_label", {"renamed"}).value(), json::array({ref}));
  EXPECT_EQ(code(call("network.add_to_other_config", {ref, "k", "v"})), "OK");
  EXPECT_EQ(code(call("network.add_to_other_config", {ref, "k", "w"})), "MAP_DUPLICATE_KEY");
  EXPECT_EQ(call("network.get_other_config", {ref}).value(), json({{"k", "v"}}));
  EXPECT_EQ(code(call("network.remove_from_other_config", {ref, "k"})), "OK");
  EXPECT_EQ(code(call("network.add_tags", {ref, "blue"})), "OK");
  EXPECT_EQ(call("network.get_tags", {ref}).value(), json::array({"blue"}));
  EXPECT_EQ(code(call("network.set_bridge", {ref, "x"})), "MESSAGE_METHOD_UNKNOWN");  // RO field
  EXPECT_EQ(code(call("network.set_MTU", {ref, 20})), "MTU_INVALID");
  EXPECT_EQ(call("network.get_MTU", {ref}).value(), 9000);
  auto rec = call("network.get_record", {ref}).value();
  EXPECT_EQ(rec["uuid"], ref.substr(10));
  EXPECT_EQ(rec["PIFs"], json::array());
}

TEST_F(ApiTest, RefusedDataPlaneChangeIsNotStored) {
  auto pifs = call("PIF.get_all").value();
  ASSERT_EQ(pifs.size(), 1u);
  sw_.fail_open = "eth0";  // the device cannot be opened
  auto r = call("PIF.plug", {pifs[0]});
  ASSERT_EQ(code(r), "PORT_OPEN_FAILED");
  EXPECT_EQ(call("PIF.get_currently_attached", {pifs[0]}).value(), false);
  // ...and not in the store either: a fresh Manager over the same file agrees.
  Manager again(store_, nullptr, [] { return std::vector<model::NicInfo>{}; });
  ASSERT_TRUE(again.start("host1"));
  bool attached = again.read([&](const model::Txn& t) {
    return t.get(pifs[0].get<std::string>().substr(10))->rec["currently_attached"].get<bool>();
  });
  EXPECT_FALSE(attached);
  sw_.fail_open.clear();
  EXPECT_EQ(code(call("PIF.plug", {pifs[0]})), "OK");
  EXPECT_EQ(sw_.ctl.topology().ports.size(), 1u);
}

TEST_F(ApiTest, VlanAndVifCallsReachTheDataPlane) {
  auto pif = call("PIF.get_all").value()[0];
  auto net = call("network.create", {{{"name_label", "v5"}}}).value();
  EXPECT_EQ(code(call("VLAN.create", {pif, 4096, net})), "VLAN_TAG_INVALID");
  auto vlan = call("VLAN.create", {pif, "5", net});
  ASSERT_TRUE(vlan);
  auto vm = call("VM.create", {{{"name_label", "vm"}}}).value();
  auto vif = call("VIF.create", {{{"VM", vm}, {"network", net}, {"device", "0"}, {"MAC", ""}}});
  ASSERT_TRUE(vif);
  ASSERT_EQ(code(call("VIF.plug", {vif.value()})), "OK");
  auto topo = sw_.ctl.topology();
  ASSERT_EQ(topo.ports.size(), 2u);
  EXPECT_EQ(topo.ports[0].name, "eth0");
  ASSERT_EQ(topo.ports[0].vlans.size(), 1u);
  EXPECT_EQ(topo.ports[0].vlans[0].tag, 5);
  EXPECT_EQ(topo.ports[1].name, "vif1.0");
  EXPECT_EQ(topo.ports[1].network, topo.ports[0].vlans[0].network);
  auto pifs = call("pool.create_VLAN",
                   {"eth0", call("network.create", {{{"name_label", "v6"}}}).value(), "6"});
  ASSERT_TRUE(pifs);
  EXPECT_EQ(pifs.value().size(), 1u);
}

TEST(Wire, XmlRpcRoundTripAndXapiEncoding) {
  auto c = decode_xmlrpc(
      "<?xml version='1.0'?><methodCall><methodName>VLAN.create</methodName><params>"
      "<param><value><string>OpaqueRef:s</string></value></param>"
      "<param><value>bare</value></param>"
      "<param><value><i8>5</i8></value></param>"
      "<param><value><struct><member><name>k</name><value><boolean>1</boolean></value></member>"
      "</struct></value></param>"
      "<param><value><array><data><value><int>1</int></value></data></array></value></param>"
      "</params></methodCall>");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->method, "VLAN.create");
  EXPECT_EQ(c->params, json::array({"OpaqueRef:s", "bare", 5, {{"k", true}}, json::array({1})}));
  std::string ok = encode_xmlrpc(Result<json>(json{{"MTU", 1500}, {"up", true}}));
  EXPECT_NE(ok.find("<name>Status</name><value>Success</value>"), std::string::npos);
  EXPECT_NE(ok.find("<name>MTU</name><value>1500</value>"), std::string::npos);  // int as string
  EXPECT_NE(ok.find("<boolean>1</boolean>"), std::string::npos);
  std::string err = encode_xmlrpc(Result<json>(make_error("VLAN_TAG_INVALID", {"5000"})));
  EXPECT_NE(err.find("<value>Failure</value>"), std::string::npos);
  EXPECT_NE(err.find("<value>VLAN_TAG_INVALID</value><value>5000</value>"), std::string::npos);
  EXPECT_FALSE(decode_xmlrpc("<methodCall><params>"));
  EXPECT_FALSE(
      decode_xmlrpc("<methodCall><methodName>x</methodName><params><param><value><int>z</int></"
                    "value></param></params></methodCall>"));
}

TEST(Wire, JsonRpcV1AndV2) {
  auto v1 = decode_jsonrpc(R"({"method":"a.b","params":[1],"id":7})");
  ASSERT_TRUE(v1);
  EXPECT_FALSE(v1->v2);
  EXPECT_EQ(json::parse(encode_jsonrpc(*v1, Result<json>(json("x")))),
            json({{"result", "x"}, {"error", nullptr}, {"id", 7}}));
  EXPECT_EQ(json::parse(encode_jsonrpc(*v1, Result<json>(make_error("E", {"p"}))))["error"],
            json::array({"E", "p"}));
  auto v2 = decode_jsonrpc(R"({"jsonrpc":"2.0","method":"a.b","params":[],"id":"q"})");
  ASSERT_TRUE(v2);
  auto e = json::parse(encode_jsonrpc(*v2, Result<json>(make_error("E", {"p"}))));
  EXPECT_EQ(e["error"], json({{"code", 1}, {"message", "E"}, {"data", {"p"}}}));
  EXPECT_FALSE(decode_jsonrpc(R"({"method":"a.b","params":[],"id":null})"));
  EXPECT_FALSE(decode_jsonrpc("not json"));
}

TEST_F(ApiTest, HttpLayerAnswersMalformedBodiesWith400) {
  HttpServer http(*api_);
  auto post = [&](const std::string& path, const std::string& body, std::string verb = "POST") {
    return http.handle(HttpRequest{verb, path, body, "", "", "", Caller(Origin::kLocal)});
  };
  EXPECT_EQ(post("/", "<not xml").status, 400);
  auto bad_json = post("/jsonrpc", "{");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(json::parse(bad_json.body)["error"][0], "MALFORMED_REQUEST");
  EXPECT_EQ(post("/elsewhere", "").status, 404);
  EXPECT_EQ(post("/jsonrpc", "", "OPTIONS").status, 200);
  auto r = post("/jsonrpc", R"({"method":"network.get_all","params":["bad"],"id":1})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["error"][0], "SESSION_INVALID");
}

TEST_F(ApiTest, ConsoleCallsReadTheSwitchAndNameEachPortsObject) {
  auto net = call("network.create", {{{"name_label", "console"}}}).value();
  auto vm = call("VM.create", {{{"name_label", "vm1"}}}).value();
  auto vif = call("VIF.create",
                  {{{"VM", vm}, {"network", net}, {"device", "0"}, {"MAC", "00:16:3e:00:00:01"}}});
  ASSERT_TRUE(vif) << vif.error().to_string();
  ASSERT_EQ(code(call("VIF.plug", {vif.value()})), "OK");
  const std::string host = call("host.get_all").value()[0];
  auto st = call("host.get_network_stats", {host});
  ASSERT_TRUE(st) << st.error().to_string();
  json port;
  for (const auto& p : st.value()["ports"])
    if (p["object"] == vif.value()) port = p;
  ASSERT_FALSE(port.is_null()) << st.value().dump();
  EXPECT_EQ(port["object_class"], "VIF");
  EXPECT_EQ(port["rx_packets"], 0);
  EXPECT_TRUE(st.value()["drops"].contains("lock_mac"));
  // A frame from the VIF: counted, and its MAC is in the network's table.
  const std::string tap = port["name"];
  sw_.port(tap).inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  sw_.step();
  const json after = call("host.get_network_stats", {host}).value();
  for (const auto& p : after["ports"]) {
    if (p["name"] == tap) {
      EXPECT_EQ(p["rx_packets"], 1);
    }
  }
  auto macs = call("network.get_mac_table", {net}).value();
  ASSERT_EQ(macs.size(), 1u);
  EXPECT_EQ(macs[0]["mac"], "00:16:3e:00:00:01");
  EXPECT_EQ(macs[0]["port"], tap);
  auto drops = call("host.get_drop_trace", {host}).value();  // a flood with no other port
  ASSERT_FALSE(drops.empty());
  EXPECT_EQ(drops.back()["reason"], "no_destination");
  EXPECT_EQ(drops.back()["src"], "00:16:3e:00:00:01");
  EXPECT_EQ(drops.back()["vlan"], -1);
  // A trace by the VIF's object, with numbers as XML-RPC clients send them.
  auto tr = call("host.trace_packet", {host,
                                       {{"in_object", vif.value()},
                                        {"src", "00:16:3e:00:00:01"},
                                        {"dst", "ff:ff:ff:ff:ff:ff"},
                                        {"vlan", "0"},
                                        {"ethertype", "0x0806"}}});
  ASSERT_TRUE(tr) << tr.error().to_string();
  EXPECT_EQ(tr.value()["verdict"], "drop");
  EXPECT_EQ(tr.value()["drop_reason"], "no_destination");
  auto bad = call("host.trace_packet", {host, {{"in_port", tap}, {"src", "x"}, {"dst", "y"}}});
  ASSERT_EQ(code(bad), "INVALID_VALUE");
  EXPECT_EQ(bad.error().params, (std::vector<std::string>{"src", "x"}));
  EXPECT_EQ(code(call("host.trace_packet", {host, {{"vlan", 5000}}})), "INVALID_VALUE");
  EXPECT_EQ(code(call("host.trace_packet", {host, "frame"})), "FIELD_TYPE_ERROR");
  EXPECT_EQ(code(call("host.get_network_stats", {"OpaqueRef:nope"})), "HANDLE_INVALID");
}

TEST_F(ApiTest, ConsoleAndMetricsOverHttp) {
  ServerLimits lim;
  lim.metrics_token = "tok";
  HttpServer http(*api_, lim);
  auto get = [&](const std::string& path, const std::string& from, const std::string& auth = "") {
    return http.handle(HttpRequest{"GET", path, "", "", "", auth, Caller(Origin::kNetwork, from)});
  };
  auto page = get("/", "10.0.0.9");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("/ui/app.js"), std::string::npos);
  bool csp = false;
  for (const auto& [k, v] : page.headers)
    csp |= k == "Content-Security-Policy" && v.find("script-src 'self'") != std::string::npos;
  EXPECT_TRUE(csp);
  EXPECT_EQ(get("/ui/app.js", "10.0.0.9").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/ui/../etc/passwd", "10.0.0.9").status, 404);
  EXPECT_EQ(get("/metrics", "10.0.0.9").status, 401);
  EXPECT_EQ(get("/metrics", "10.0.0.9", "Bearer nope").status, 401);
  EXPECT_EQ(get("/metrics", "10.0.0.9", "Bearer tok").status, 200);
  ASSERT_TRUE(call("network.get_all"));
  auto m = get("/metrics", "127.0.0.1");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("hvnet_api_calls_total{method=\"network.get_all\"} 1"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("hvnet_drops_total{reason=\"lock_mac\"} 0"), std::string::npos);
  EXPECT_NE(m.body.find("# TYPE hvnet_port_rx_packets_total counter"), std::string::npos);
  HttpServer open_http(*api_);  // no token: loopback alone
  EXPECT_EQ(open_http
                .handle(HttpRequest{"GET", "/metrics", "", "", "", "Bearer ",
                                    Caller(Origin::kNetwork, "10.0.0.9")})
                .status,
            401);
}

}  // namespace
}  // namespace hvnet::api
