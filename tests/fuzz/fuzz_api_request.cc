// The whole request path: router, decoders, method table, model operations and the SQLite store
// over an in-memory switch. Input: byte 0 picks the path (bit 0: XML-RPC or JSON-RPC; bit 1: a GET
// of the rest as its target, the console's files and /metrics), the rest is the body; "@S" in it
// becomes a valid session and "@H" the host's ref, so calls get past the login and the lookups. Long polls (event.from,
// event.next) are left waiting: the event hub runs without its thread here, so no input can
// block the fuzzer (waiters beyond the hub's cap are answered at once).
#include <unistd.h>

#include <filesystem>

#include "../unit/mem_switch.h"
#include "api/api.h"
#include "api/http_server.h"
#include "store/sqlite_store.h"

namespace {

// One system account, "fuzz" (u1000), for the subject and login paths.
struct FuzzAccounts : hvnet::api::Authenticator {
  hvnet::api::Account fuzz{"fuzz", 1000, 1000, "Fuzz", {1000}, false};
  bool check_password(const std::string& u, const std::string& pw) override {
    return u == "fuzz" && pw == "fuzz-pw";
  }
  std::optional<hvnet::api::Account> user(const std::string& n) override {
    return n == "fuzz" ? std::optional(fuzz) : std::nullopt;
  }
  std::optional<hvnet::api::Account> user_by_id(uint32_t id) override {
    return id == 1000 ? std::optional(fuzz) : std::nullopt;
  }
  std::optional<hvnet::api::Account> group(const std::string&) override { return std::nullopt; }
  std::optional<hvnet::api::Account> group_by_id(uint32_t) override { return std::nullopt; }
};

struct World {
  World() {
    path = (std::filesystem::temp_directory_path() /
            ("hvnet-fuzz-" + std::to_string(getpid()) + ".db"))
               .string();
    for (auto s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
    (void)store.open(path);
    mgr = std::make_unique<hvnet::Manager>(store, &sw.ctl, [] {
      return std::vector<hvnet::model::NicInfo>{{"eth0", "52:54:00:00:00:01", 1500},
                                                {"eth1", "52:54:00:00:00:02", 1500}};
    });
    (void)mgr->start("fuzzhost");
    api = std::make_unique<hvnet::api::Api>(
        *mgr, hvnet::api::Credentials{"root", "pw"}, hvnet::api::SessionPolicy{},
        hvnet::api::Api::Clock::now, hvnet::api::EventHub::Limits{}, /*threaded=*/false);
    api->set_authenticator(std::make_shared<FuzzAccounts>());
    http = std::make_unique<hvnet::api::HttpServer>(*api);
    host = "OpaqueRef:" + mgr->local_host();
    session = api->call("session.login_with_password", nlohmann::json::array({"root", "pw"}),
                        hvnet::api::Caller(hvnet::api::Origin::kLocal))
                  .value()
                  .get<std::string>();
  }
  std::string path;
  hvnet::test::MemSwitch sw;
  hvnet::store::SqliteStore store;
  std::unique_ptr<hvnet::Manager> mgr;
  std::unique_ptr<hvnet::api::Api> api;
  std::unique_ptr<hvnet::api::HttpServer> http;
  std::string session, host;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  if (size < 1) return 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t at; (at = body.find("@S")) != std::string::npos;) body.replace(at, 2, w.session);
  for (size_t at; (at = body.find("@H")) != std::string::npos;) body.replace(at, 2, w.host);
  const bool get = data[0] & 2;
  hvnet::api::HttpRequest req{get ? "GET" : "POST",
                              get ? body : (data[0] & 1) ? "/jsonrpc" : "/RPC2",
                              get ? "" : std::move(body),
                              "",
                              "",
                              "",
                              hvnet::api::Caller(hvnet::api::Origin::kNetwork, "127.0.0.1")};
  w.http->handle_async(req, [](hvnet::api::HttpReply reply) {
    if (reply.status == 500) __builtin_trap();  // a request that throws is a bug too
  });
  return 0;
}
