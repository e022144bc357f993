// The API's edge: every request that once crashed hvnetd, the decoders' limits, UTF-8, the
// per-request error boundary, sessions (expiry, per-user cap), login throttling and origins.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "../mem_switch.h"
#include "../temp_db.h"
#include "api/api.h"
#include "api/http_server.h"
#include "api/wire.h"
#include "model/utf8.h"
#include "store/sqlite_store.h"

namespace hvnet::api {
namespace {

std::string nested_json(size_t depth) {
  return R"({"method":"x","id":1,"params":[)" + std::string(depth, '[') + std::string(depth, ']') +
         "]}";
}

std::string xml_call(const std::string& method, const std::string& params_xml) {
  return "<?xml version='1.0'?><methodCall><methodName>" + method + "</methodName><params>" +
         params_xml + "</params></methodCall>";
}

std::string nested_xml(size_t depth) {
  std::string open, close;
  for (size_t i = 0; i < depth; ++i) {
    open += "<value><array><data>";
    close += "</data></array></value>";
  }
  return xml_call("x", "<param>" + open + close + "</param>");
}

class EdgeTest : public ::testing::Test {
 protected:
  EdgeTest() {
    EXPECT_TRUE(store_.open(db_.path));
    mgr_ =
        std::make_unique<Manager>(store_, &sw_.ctl, [] { return std::vector<model::NicInfo>{}; });
    EXPECT_TRUE(mgr_->start("host1"));
    SessionPolicy pol;
    pol.max_per_user = 3;
    pol.idle_expiry = std::chrono::hours(24);
    api_ =
        std::make_unique<Api>(*mgr_, Credentials{"root", "secret"}, pol, [this] { return now_; });
    http_ = std::make_unique<HttpServer>(*api_);
  }
  HttpReply post(const std::string& path, const std::string& body,
                 Caller caller = Caller(Origin::kNetwork, "127.0.0.1")) {
    return http_->handle(HttpRequest{"POST", path, body, "", "", "", caller});
  }
  Result<json> login(const std::string& pw, const std::string& addr = "10.0.0.1",
                     const std::string& user = "root") {
    return api_->call("session.login_with_password", json::array({user, pw}),
                      Caller(Origin::kNetwork, addr));
  }
  std::string session() { return login("secret").value().get<std::string>(); }
  size_t network_count() {
    return mgr_->read([](const model::Txn& t) { return t.all_of("network").size(); });
  }

  test::TempDb db_{"edge"};
  test::MemSwitch sw_;
  store::SqliteStore store_;
  std::unique_ptr<Manager> mgr_;
  Api::Clock::time_point now_ = Api::Clock::now();
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> http_;
};

TEST(Utf8, ValidAndInvalidSequences) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xe6\x97"));          // truncated
  EXPECT_EQ(utf8_escaped("a\xff"
                         "b\xc3\xa9"),
            "a\\xffb\xc3\xa9");
}

// Each of these requests aborted hvnetd (uncaught exception or stack overflow) before.
TEST_F(EdgeTest, JsonRpcMemberTypesAreCheckedBeforeUse) {
  for (const char* body :
       {R"({"method":"","id":1,"jsonrpc":0})", R"({"method":"","id":1,"jsonrpc":null})",
        R"({"method":5,"id":1})", R"({"method":"a","params":{},"id":1})",
        R"({"method":"a","id":[1]})", R"([1,2])", R"("x")"}) {
    auto r = post("/jsonrpc", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(json::parse(r.body)["error"][0], kMalformedRequest) << body;
  }
}

TEST_F(EdgeTest, XmlRpcInvalidUtf8IsRefusedWherePlacedAndNothingIsStored) {
  // A non-string first parameter holding invalid UTF-8 (once: abort).
  auto r = post("/", xml_call("network.get_all",
                              "<param><value><struct><member><name>\xff</name>"
                              "<value>1</value></member></struct></value></param>"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("not valid UTF-8: \\xff"), std::string::npos) << r.body;
  // network.create with name_label "\xff" (once: abort during commit).
  const size_t before = network_count();
  r = post("/", xml_call("network.create",
                         "<param><value>" + session() +
                             "</value></param><param><value><struct>"
                             "<member><name>name_label</name><value>\xff</value></member>"
                             "</struct></value></param>"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(network_count(), before);
  // A surrogate written as a character reference decodes to invalid UTF-8 too.
  r = post("/", xml_call("x", "<param><value>&#xD800;</value></param>"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("UTF-8"), std::string::npos);
}

TEST_F(EdgeTest, TheModelRefusesInvalidUtf8EvenPastTheDecoder) {
  auto r = api_->call("network.create",
                      json::array({session(), json{{"name_label", std::string("\xff")}}}),
                      Caller(Origin::kLocal));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "INVALID_VALUE");
  EXPECT_EQ(r.error().params.at(1), "not valid UTF-8: \\xff");
}

TEST_F(EdgeTest, DeepNestingIsRefusedNotRecursedInto) {
  auto r = post("/jsonrpc", nested_json(58000));  // once: stack overflow
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("nesting deeper than 64"), std::string::npos) << r.body;
  r = post("/", nested_xml(26500));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("nesting deeper than 64"), std::string::npos) << r.body;
  // Within the limit: decoded (and answered by the API: the method does not exist).
  EXPECT_EQ(post("/jsonrpc", nested_json(60)).status, 200);
  EXPECT_EQ(post("/", nested_xml(60)).status, 200);
}

TEST_F(EdgeTest, ValueCountIsCapped) {
  DecodeLimits lim;
  lim.max_values = 100;
  std::string many = R"({"method":"x","id":1,"params":[)";
  for (int i = 0; i < 200; ++i) many += (i ? ",1" : "1");
  many += "]}";
  auto r = decode_jsonrpc(many, lim);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().params[0].find("more than 100 values"), std::string::npos);
  std::string xml;
  for (int i = 0; i < 200; ++i) xml += "<param><value>1</value></param>";
  EXPECT_FALSE(decode_xmlrpc(xml_call("x", xml), lim));
}

TEST_F(EdgeTest, EncodersNeverThrowOnBadText) {
  RpcCall c;
  c.id = 1;
  auto s = encode_jsonrpc(c, Result<json>(make_error("E", {std::string("\xff")})));
  EXPECT_NO_THROW((void)json::parse(s));
}

TEST_F(EdgeTest, AThrowingHandlerBecomesInternalError) {
  // Bond.create with properties of the wrong type reached .items() on a string once.
  auto r = api_->call("Bond.create",
                      json::array({session(), "OpaqueRef:x", json::array(), "", "lacp", "oops"}),
                      Caller(Origin::kLocal));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().code, "OK");
}

TEST_F(EdgeTest, SessionsExpireWhenIdleAndAreCappedPerUser) {
  std::string a = session();
  now_ += std::chrono::seconds(1);
  std::string b = session();
  now_ += std::chrono::seconds(1);
  std::string c = session();
  now_ += std::chrono::seconds(1);
  // a is used, so b is now the least recently used: the fourth login destroys it.
  EXPECT_TRUE(api_->call("network.get_all", json::array({a}), Caller(Origin::kLocal)));
  std::string d = session();
  EXPECT_FALSE(api_->call("network.get_all", json::array({b}), Caller(Origin::kLocal)));
  EXPECT_TRUE(api_->call("network.get_all", json::array({a}), Caller(Origin::kLocal)));
  EXPECT_TRUE(api_->call("network.get_all", json::array({d}), Caller(Origin::kLocal)));
  EXPECT_EQ(api_->session_count(), 3u);
  now_ += std::chrono::hours(25);
  auto r = api_->call("network.get_all", json::array({a}), Caller(Origin::kLocal));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "SESSION_INVALID");
}

TEST_F(EdgeTest, FailedLoginsAreThrottledPerAddressAndPerUser) {
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(login("wrong"));
  EXPECT_FALSE(login("wrong"));  // the sixth failure starts a back-off
  auto r = login("secret");      // even the right password waits it out
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().params.at(1).find("too many failed logins"), std::string::npos);
  // The user is throttled from every address (a spray of addresses does not help)...
  EXPECT_FALSE(login("secret", "10.0.0.2"));
  // ...but root on the Unix socket (local, trusted) is not locked out.
  EXPECT_TRUE(
      api_->call("session.login_with_password", json::array({"root", ""}), Caller(Origin::kLocal)));
  now_ += std::chrono::seconds(2);
  EXPECT_TRUE(login("secret"));
  // Success cleared the count: one more failure is free again.
  EXPECT_FALSE(login("wrong"));
  EXPECT_TRUE(login("secret"));
}

TEST_F(EdgeTest, OnlyTheSameOriginOrAllowedOnesMayCall) {
  const std::string body =
      R"({"method":"session.login_with_password","params":["root","secret"],"id":1})";
  HttpRequest req{"POST",
                  "/jsonrpc",
                  body,
                  "http://evil.example",
                  "127.0.0.1:8090",
                  "",
                  Caller(Origin::kNetwork, "127.0.0.1")};
  auto r = http_->handle(req);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.allow_origin.empty());
  req.origin_header = "http://127.0.0.1:8090";
  r = http_->handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.allow_origin, "http://127.0.0.1:8090");
  ServerLimits lim;
  lim.allowed_origins = {"https://console.example"};
  HttpServer allow(*api_, lim);
  req.origin_header = "https://console.example";
  EXPECT_EQ(allow.handle(req).status, 200);
  req.verb = "OPTIONS";
  req.origin_header = "http://evil.example";
  EXPECT_EQ(allow.handle(req).status, 403);
  // Clients that are not browsers send no Origin and are not affected.
  req.origin_header.clear();
  req.verb = "POST";
  EXPECT_EQ(allow.handle(req).status, 200);
}

TEST(ServerLimitsTest, CapsFitTheDescriptorLimit) {
  ServerLimits l;
  l.fit_to_fd_limit(1 << 20);
  EXPECT_EQ(l.max_connections, 4096u);
  EXPECT_EQ(l.max_local_connections, 256u);
  ServerLimits small;
  small.fit_to_fd_limit(256);
  EXPECT_LE(small.max_connections + small.max_local_connections, 256u - 64u);
  EXPECT_GE(small.max_local_connections, 4u);
  EXPECT_LE(small.max_per_address, small.max_connections);
}

}  // namespace
}  // namespace hvnet::api
