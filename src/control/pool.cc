#include "control/pool.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/xe/rpc_client.h"
#include "model/ops.h"
#include "model/records.h"
#include "store/etcd_store.h"
#include "store/sqlite_store.h"
#include "util/bounded_json.h"

namespace hvnet {

using json = nlohmann::json;
using E = store::EtcdClient;
namespace fs = std::filesystem;
using model::string_field;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes `text` to `path` readable by root alone, replacing it atomically.
Status write_private(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return make_error("INTERNAL_ERROR", {path, "cannot be written"});
    ::chmod(tmp.c_str(), 0600);
    out << text;
    if (!out.flush()) return make_error("INTERNAL_ERROR", {path, "cannot be written"});
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error("INTERNAL_ERROR", {path, ec.message()});
  return ok_status();
}

const char* const kConfigFields[] = {"pool",     "host",           "endpoints",
                                     "prefix",   "ca_file",        "cert_file",
                                     "key_file", "master_address", "master_fingerprint"};

std::string* field_of(PoolConfig& c, std::string_view f) {
  if (f == "pool") return &c.pool;
  if (f == "host") return &c.host;
  if (f == "endpoints") return &c.endpoints;
  if (f == "prefix") return &c.prefix;
  if (f == "ca_file") return &c.ca_file;
  if (f == "cert_file") return &c.cert_file;
  if (f == "key_file") return &c.key_file;
  if (f == "master_address") return &c.master_address;
  return &c.master_fingerprint;
}

}  // namespace

Result<std::optional<PoolConfig>> read_pool_config(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<PoolConfig>();
  auto j = parse_bounded_json(slurp(path), JsonLimits{8, 1000});
  if (!j || !j->is_object())
    return make_error("INVALID_VALUE", {"pool config", path, "not a JSON object"});
  PoolConfig c;
  for (const char* f : kConfigFields)
    if (j->contains(f) && (*j)[f].is_string()) *field_of(c, f) = (*j)[f].get<std::string>();
  if (c.host.empty() || c.endpoints.empty())
    return make_error("INVALID_VALUE", {"pool config", path, "host and endpoints are required"});
  return std::optional<PoolConfig>(c);
}

Status write_pool_config(const std::string& path, const PoolConfig& cfg) {
  json j = json::object();
  PoolConfig c = cfg;
  for (const char* f : kConfigFields) j[f] = *field_of(c, f);
  return write_private(path, j.dump(2) + "\n");
}

Result<std::vector<store::EtcdEndpoint>> pool_endpoints(const PoolConfig& cfg) {
  auto eps = store::parse_etcd_endpoints(cfg.endpoints);
  if (!eps) return eps;
  for (auto& e : eps.value()) {
    e.ca_file = cfg.ca_file;
    e.cert_file = cfg.cert_file;
    e.key_file = cfg.key_file;
  }
  return eps;
}

Result<PoolConfig> PoolMember::found(store::Store& standalone, PoolConfig cfg,
                                     const std::string& state_dir) {
  auto eps = pool_endpoints(cfg);
  if (!eps) return eps.error();
  store::EtcdStore etcd(eps.value(), cfg.prefix);
  model::Database in_etcd, mine;
  if (auto st = etcd.load(in_etcd); !st) return st.error();
  if (!in_etcd.all().empty())
    return make_error("POOL_JOINING_HOST_SERVICE_FAILED",
                      {cfg.endpoints, "etcd holds a pool already: join it (xe pool-join)"});
  if (auto st = standalone.load(mine); !st) return st.error();
  model::Txn view(mine, false);
  cfg.host = model::local_host(view);
  const auto pools = view.all_of("pool");
  cfg.pool = pools.empty() ? model::new_uuid() : pools.front();
  if (cfg.host.empty()) return make_error("HOST_UNKNOWN_TO_POOL", {"no host record to found with"});
  // The identity files into pool/, where a joining host keeps its own.
  const std::string dir = state_dir + "/pool";
  std::error_code ec;
  fs::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  for (auto [file, name] : {std::pair{&cfg.ca_file, "ca.pem"},
                            {&cfg.cert_file, "client.pem"},
                            {&cfg.key_file, "client.key"}}) {
    if (file->empty()) continue;
    const std::string to = dir + "/" + name;
    if (fs::absolute(*file) != fs::absolute(to))
      if (auto st = write_private(to, slurp(*file)); !st) return st.error();
    *file = to;
  }
  model::Txn all(in_etcd);
  for (const auto& [uuid, o] : mine.all()) all.put(uuid, o);
  if (auto c = etcd.commit(all.changes(), all.reads()); !c) return c.error();
  if (auto st = write_pool_config(state_dir + "/pool.json", cfg); !st) return st.error();
  spdlog::info("pool: founded pool {} on {} with this host ({}) as master", cfg.pool, cfg.endpoints,
               cfg.host);
  return cfg;
}

PoolMember::PoolMember(Manager& mgr, Options opt) : mgr_(mgr), opt_(std::move(opt)) {}

PoolMember::~PoolMember() {
  stop();
}

std::optional<PoolConfig> PoolMember::config() {
  std::lock_guard lk(mu_);
  return cfg_;
}

void PoolMember::start(PoolConfig cfg) {
  stop();
  {
    std::lock_guard lk(mu_);
    cfg_ = std::move(cfg);
    lease_ = 0;
    master_.clear();
  }
  running_ = true;
  remember_management();
  watcher_ = std::thread([this] { watch_loop(); });
  keeper_ = std::thread([this] { lease_loop(); });
}

void PoolMember::stop() {
  {
    std::lock_guard lk(mu_);
    running_ = false;
  }
  cv_.notify_all();
  for (std::thread* t : {&watcher_, &keeper_}) {
    if (!t->joinable()) continue;
    if (t->get_id() == std::this_thread::get_id())
      t->detach();  // leave() from the watcher itself: it returns right after
    else
      t->join();
  }
}

bool PoolMember::pause(std::chrono::milliseconds d) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, d, [this] { return !running_.load(); });
  return running_;
}

std::string PoolMember::master() {
  std::lock_guard lk(mu_);
  return master_;
}

void PoolMember::remember_management() {
  json m = mgr_.read([](const model::Txn& t) -> json {
    for (const auto& pif : t.where("PIF", "host", model::local_host(t))) {
      const json& r = t.get(pif)->rec;
      if (r.value("management", false)) return r;
    }
    return nullptr;
  });
  std::lock_guard lk(mu_);
  if (!m.is_null()) mgmt_ = std::move(m);
}

void PoolMember::watch_loop() {
  const PoolConfig cfg = *config();
  auto eps = pool_endpoints(cfg);
  if (!eps) return;
  E etcd(eps.value());
  bool reported = false;
  auto gone = [&] {
    return mgr_.read([&](const model::Txn& t) { return t.get(cfg.host, "host") == nullptr; });
  };
  bool left = false;
  auto last_check = std::chrono::steady_clock::now();
  while (running_ && !left) {
    // What happened while not watching (start, or etcd away), then the watch from there on.
    Status st = mgr_.catch_up();
    if (st) {
      if (gone()) {
        left = true;
        break;
      }
      remember_management();
      serve_requests();
      st = etcd.watch(
          cfg.prefix + "obj/", mgr_.generation() + 1,
          [&](uint64_t) {
            if (auto c = mgr_.catch_up(); !c) spdlog::warn("pool: {}", c.error().to_string());
            if (gone()) {
              left = true;
              return false;
            }
            remember_management();
            serve_requests();
            return true;
          },
          [&] {
            // A member that lost its quorum keeps a watch open and silent: every few seconds
            // the watcher also asks for what it may have missed.
            if (std::chrono::steady_clock::now() - last_check > std::chrono::seconds(3)) {
              last_check = std::chrono::steady_clock::now();
              if (auto c = mgr_.catch_up(); c && gone()) {
                left = true;
                return false;
              }
            }
            return running_.load();
          });
    }
    if (!st && !reported) {
      spdlog::warn("pool: etcd unreachable, forwarding on the last configuration: {}",
                   st.error().to_string());
      reported = true;
    } else if (st) {
      reported = false;
    }
    if (!left && running_) pause(std::chrono::milliseconds(300));
  }
  if (left && running_) {
    spdlog::warn("pool: this host's record left the pool (ejected): returning to standalone");
    // leave() stops this thread's own loop; run it from a thread of its own.
    std::thread([this] {
      if (auto s = leave(); !s) spdlog::error("pool: leaving failed: {}", s.error().to_string());
    }).detach();
  }
}

void PoolMember::lease_loop() {
  const PoolConfig cfg = *config();
  auto eps = pool_endpoints(cfg);
  if (!eps) return;
  E etcd(eps.value(), std::chrono::seconds(2));
  const std::string master_key = E::b64(cfg.prefix + "master");
  const std::string live_key = E::b64(cfg.prefix + "live/" + cfg.host);
  int64_t lease = 0;
  while (running_) {
    if (lease) {
      auto ttl = etcd.lease_keepalive(lease);
      if (ttl && ttl.value() <= 0) lease = 0;  // expired (etcd away too long): a new one
    }
    if (!lease) {
      auto l = etcd.lease_grant(kLeaseTtlS);
      if (l) {
        lease = l.value();
        (void)etcd.call("kv/put", {{"key", live_key},
                                   {"value", E::b64(std::to_string(lease))},
                                   {"lease", std::to_string(lease)}});
      }
    }
    {
      std::lock_guard lk(mu_);
      lease_ = lease;
    }
    if (lease) {
      // The master key goes to whoever creates it; its lease ends with its holder.
      auto r = etcd.call("kv/txn",
                         {{"compare", json::array({{{"key", master_key},
                                                    {"target", "CREATE"},
                                                    {"result", "EQUAL"},
                                                    {"create_revision", "0"}}})},
                          {"success", json::array({{{"request_put",
                                                     {{"key", master_key},
                                                      {"value", E::b64(cfg.host)},
                                                      {"lease", std::to_string(lease)}}}}})},
                          {"failure", json::array({{{"request_range", {{"key", master_key}}}}})}});
      if (r) {
        std::string holder = cfg.host;
        if (!r->value("succeeded", false)) {
          const json& resp = r->value("responses", json::array());
          const json kvs =
              resp.empty()
                  ? json::array()
                  : resp[0].value("response_range", json::object()).value("kvs", json::array());
          holder = kvs.empty() ? "" : E::unb64(string_field(kvs[0], "value"));
        }
        bool changed = false;
        {
          std::lock_guard lk(mu_);
          changed = master_ != holder;
          master_ = holder;
        }
        if (changed) spdlog::info("pool: master is {}", holder.empty() ? "unknown" : holder);
        if (holder == cfg.host) {
          const bool recorded = mgr_.read([&](const model::Txn& t) {
            for (const auto& p : t.all_of("pool"))
              if (string_field(t.get(p)->rec, "master") != cfg.host) return false;
            return true;
          });
          if (!recorded)
            (void)mgr_.write([&](model::Txn& t) -> Result<json> {
              for (const auto& p : t.all_of("pool")) t.set_field(p, "master", cfg.host);
              return json();
            });
        }
      }
    }
    pause(std::chrono::seconds(1));
  }
  if (lease && !leaving_) return;  // a stop (hvnetd exits): the lease runs out by itself
  if (lease) (void)etcd.lease_revoke(lease);
}

namespace {
constexpr const char* kScanRequest = "pif-scan-request";
constexpr const char* kScanDone = "pif-scan-done";

std::string other_config(const model::Txn& t, const std::string& host, const char* key) {
  const model::Object* h = t.get(host, "host");
  if (!h) return "";
  const json& oc = h->rec.value("other_config", json::object());
  return oc.is_object() ? string_field(oc, key) : "";
}
}  // namespace

void PoolMember::serve_requests() {
  const std::string self = mgr_.local_host();
  const std::string asked =
      mgr_.read([&](const model::Txn& t) { return other_config(t, self, kScanRequest); });
  if (asked.empty() ||
      asked == mgr_.read([&](const model::Txn& t) { return other_config(t, self, kScanDone); }))
    return;
  const auto nics = mgr_.scan_nics();
  auto r = mgr_.write([&](model::Txn& t) -> Result<json> {
    if (auto s = model::pif_scan(t, self, nics); !s) return s.error();
    json rec = t.get(self)->rec;
    rec["other_config"][kScanDone] = asked;
    t.put(self, model::Object{"host", rec});
    return json();
  });
  if (!r) spdlog::warn("pool: PIF scan asked by a member failed: {}", r.error().to_string());
}

Status PoolMember::scan_on(const std::string& host, std::chrono::milliseconds timeout) {
  const std::string token = model::new_uuid();
  auto w = mgr_.write([&](model::Txn& t) -> Result<json> {
    const model::Object* h = t.get(host, "host");
    if (!h) return make_error("HANDLE_INVALID", {"host", host});
    json rec = h->rec;
    rec["other_config"][kScanRequest] = token;
    t.put(host, model::Object{"host", rec});
    return json();
  });
  if (!w) return w.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    (void)mgr_.catch_up();
    if (mgr_.read([&](const model::Txn& t) { return other_config(t, host, kScanDone); }) == token)
      return ok_status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return make_error("HOST_OFFLINE", {host, "it did not answer the PIF scan"});
}

store::EtcdClient* PoolMember::sessions_client(std::string* key_prefix) {
  auto cfg = config();
  if (!cfg) {
    sessions_etcd_.reset();
    return nullptr;
  }
  *key_prefix = cfg->prefix + "session/";
  if (!sessions_etcd_) {
    auto eps = pool_endpoints(*cfg);
    if (!eps) return nullptr;
    sessions_etcd_ = std::make_unique<E>(eps.value(), std::chrono::seconds(2));
  }
  return sessions_etcd_.get();
}

namespace {
std::string session_uuid(const std::string& ref) {
  return ref.rfind(model::kRefPrefix, 0) == 0 ? ref.substr(std::strlen(model::kRefPrefix)) : ref;
}
}  // namespace

void PoolMember::share_session(const std::string& ref, const json& session) {
  std::lock_guard lk(sessions_mu_);
  std::string prefix;
  E* etcd = sessions_client(&prefix);
  if (!etcd) return;
  const auto now = std::chrono::steady_clock::now();
  if (!sessions_lease_ || now - sessions_lease_at_ > std::chrono::hours(1)) {
    auto l = etcd->lease_grant(25 * 3600);
    if (l) {
      sessions_lease_ = l.value();
      sessions_lease_at_ = now;
    }
  }
  json put = {{"key", E::b64(prefix + session_uuid(ref))}, {"value", E::b64(session.dump())}};
  if (sessions_lease_) put["lease"] = std::to_string(sessions_lease_);
  auto r = etcd->call("kv/put", put);
  if (!r)
    spdlog::warn("pool: session not shared ({}): valid on this host only", r.error().to_string());
}

std::optional<json> PoolMember::shared_session(const std::string& ref) {
  std::lock_guard lk(sessions_mu_);
  std::string prefix;
  E* etcd = sessions_client(&prefix);
  if (!etcd) return std::nullopt;
  auto r = etcd->call("kv/range", {{"key", E::b64(prefix + session_uuid(ref))}});
  if (!r) return std::nullopt;
  const json kvs = r->value("kvs", json::array());
  if (kvs.empty()) return std::nullopt;
  json v = json::parse(E::unb64(string_field(kvs[0], "value")), nullptr, false);
  if (!v.is_object()) return std::nullopt;
  return v;
}

void PoolMember::unshare_session(const std::string& ref) {
  std::lock_guard lk(sessions_mu_);
  std::string prefix;
  E* etcd = sessions_client(&prefix);
  if (!etcd) return;
  (void)etcd->call("kv/deleterange", {{"key", E::b64(prefix + session_uuid(ref))}});
}

Status PoolMember::designate(const std::string& host) {
  auto cfg = config();
  if (!cfg) return make_error("HOST_IS_SLAVE", {"this host is not in a pool"});
  auto eps = pool_endpoints(*cfg);
  if (!eps) return eps.error();
  E etcd(eps.value());
  auto live = etcd.call("kv/range", {{"key", E::b64(cfg->prefix + "live/" + host)}});
  if (!live) return live.error();
  const json kvs = live->value("kvs", json::array());
  if (kvs.empty()) return make_error("HOST_OFFLINE", {host});
  const std::string target_lease = E::unb64(string_field(kvs[0], "value"));
  const std::string master_key = E::b64(cfg->prefix + "master");
  // Through any member (as xapi forwards it to the master): the key moves from its holder to
  // the new master, under the new master's own lease, unless it moved meanwhile.
  auto held = etcd.call("kv/range", {{"key", master_key}});
  if (!held) return held.error();
  const json hkvs = held->value("kvs", json::array());
  const std::string holder = hkvs.empty() ? "" : E::unb64(string_field(hkvs[0], "value"));
  auto r = etcd.call(
      "kv/txn",
      {{"compare", json::array({{{"key", master_key},
                                 {"target", "VALUE"},
                                 {"result", "EQUAL"},
                                 {"value", E::b64(cfg->host)}}})},
       {"success",
        json::array(
            {{{"request_put",
               {{"key", master_key}, {"value", E::b64(host)}, {"lease", target_lease}}}}})}});
  if (!r) return r.error();
  if (!r->value("succeeded", false)) return make_error("HOST_IS_SLAVE", {"mastership moved"});
  {
    std::lock_guard lk(mu_);
    master_ = host;
  }
  auto w = mgr_.write([&](model::Txn& t) -> Result<json> {
    for (const auto& p : t.all_of("pool")) t.set_field(p, "master", host);
    return json();
  });
  return w ? ok_status() : Status(w.error());
}

Status PoolMember::take_over() {
  auto cfg = config();
  if (!cfg) return ok_status();  // a standalone host is its own master already
  auto eps = pool_endpoints(*cfg);
  if (!eps) return eps.error();
  int64_t lease = 0;
  {
    std::lock_guard lk(mu_);
    lease = lease_;
  }
  if (!lease) return make_error("HOST_OFFLINE", {cfg->host, "no lease with etcd"});
  E etcd(eps.value());
  auto r = etcd.call("kv/put", {{"key", E::b64(cfg->prefix + "master")},
                                {"value", E::b64(cfg->host)},
                                {"lease", std::to_string(lease)}});
  if (!r) return r.error();
  {
    std::lock_guard lk(mu_);
    master_ = cfg->host;
  }
  auto w = mgr_.write([&](model::Txn& t) -> Result<json> {
    for (const auto& p : t.all_of("pool")) t.set_field(p, "master", cfg->host);
    return json();
  });
  return w ? ok_status() : Status(w.error());
}

Result<json> PoolMember::credentials() {
  auto cfg = config();
  if (!cfg) return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {"this host is not on etcd"});
  json host = mgr_.read([](const model::Txn& t) -> json {
    const model::Object* h = t.get(model::local_host(t), "host");
    return h ? h->rec : json::object();
  });
  return json{{"pool", cfg->pool},
              {"endpoints", cfg->endpoints},
              {"prefix", cfg->prefix},
              {"ca", slurp(cfg->ca_file)},
              {"cert", slurp(cfg->cert_file)},
              {"key", slurp(cfg->key_file)},
              {"API_version_major", host.value("API_version_major", int64_t(0))},
              {"API_version_minor", host.value("API_version_minor", int64_t(0))}};
}

Result<std::string> PoolMember::join(const std::string& master_address, const std::string& user,
                                     const std::string& password) {
  if (config())
    return make_error("POOL_JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS",
                      {"this host is in a pool already"});
  xe::Endpoint ep;
  ep.host = master_address;
  ep.port = 443;
  if (auto colon = master_address.rfind(':');
      colon != std::string::npos && master_address.find(':') == colon) {
    ep.host = master_address.substr(0, colon);
    ep.port = uint16_t(std::atoi(master_address.c_str() + colon + 1));
  }
  // Trust on first use: whatever certificate the master shows now is pinned for this pool.
  ep.known_hosts = opt_.state_dir + "/pool-master.known";
  std::error_code ec;
  fs::remove(ep.known_hosts, ec);
  xe::RpcClient master(ep);
  if (auto st = master.login(user, password); !st) {
    const auto& e = st.error();
    if (e.code == "CONNECTION_FAILED" || e.code == "SSL_VERIFY_ERROR")
      return make_error("POOL_JOINING_HOST_CONNECTION_FAILED",
                        {master_address, e.params.empty() ? e.code : e.params.back()});
    return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {e.to_string()});
  }
  auto bundle = master.session_call("pool.join_credentials", json::array());
  master.logout();
  if (!bundle) return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {bundle.error().to_string()});
  const json& b = bundle.value();
  const std::string fingerprint = master.peer_fingerprint();

  const std::string dir = opt_.state_dir + "/pool";
  fs::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  PoolConfig cfg;
  cfg.pool = string_field(b, "pool");
  cfg.host = mgr_.local_host();
  cfg.endpoints = string_field(b, "endpoints");
  cfg.prefix = string_field(b, "prefix").empty() ? cfg.prefix : string_field(b, "prefix");
  cfg.ca_file = dir + "/ca.pem";
  cfg.cert_file = dir + "/client.pem";
  cfg.key_file = dir + "/client.key";
  cfg.master_address = master_address;
  cfg.master_fingerprint = fingerprint;
  for (auto [file, field] :
       {std::pair{cfg.ca_file, "ca"}, {cfg.cert_file, "cert"}, {cfg.key_file, "key"}})
    if (auto st = write_private(file, string_field(b, field)); !st) return st.error();
  auto eps = pool_endpoints(cfg);
  if (!eps) return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {eps.error().to_string()});

  // This host's objects into the pool's store, in one transaction (re-done on a conflict).
  auto probe = std::make_unique<store::EtcdStore>(eps.value(), cfg.prefix);
  Status joined = make_error("POOL_JOINING_HOST_SERVICE_FAILED", {"the pool kept changing"});
  for (int attempt = 0; attempt < 16; ++attempt) {
    model::Database pool_db;
    if (auto st = probe->load(pool_db); !st)
      return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {st.error().to_string()});
    joined = mgr_.read([&](const model::Txn& mine) -> Status {
      if (auto st = model::pool_join_checks(mine, b); !st) return st;
      model::Txn t(pool_db);
      if (auto h = model::pool_join(t, mine); !h) return h.error();
      auto c = probe->commit(t.changes(), t.reads());
      return c ? ok_status() : Status(c.error());
    });
    if (joined || joined.error().code != store::kStoreConflict) break;
  }
  if (!joined) {
    for (const auto& f : {cfg.ca_file, cfg.cert_file, cfg.key_file}) fs::remove(f, ec);
    return joined.error();
  }
  if (auto st = write_pool_config(config_path(), cfg); !st) return st.error();
  if (auto st = mgr_.rebase(std::move(probe), opt_.hostname, cfg.host); !st) {
    fs::remove(config_path(), ec);
    return st.error();
  }
  spdlog::info("pool: joined pool {} through {}; its certificate (SHA-256 {}) is pinned", cfg.pool,
               master_address, fingerprint);
  start(cfg);
  return fingerprint;
}

Status PoolMember::leave() {
  leaving_ = true;
  stop();
  json mgmt;
  {
    std::lock_guard lk(mu_);
    mgmt = mgmt_;
    cfg_.reset();
  }
  std::error_code ec;
  fs::remove(config_path(), ec);
  fs::remove_all(opt_.state_dir + "/pool", ec);
  fs::remove(opt_.state_dir + "/pool-master.known", ec);
  // A standalone host again, as after an install: a new database with this host's NICs, the
  // management interface as it was.
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(opt_.db_path + suffix, ec);
  auto sqlite = std::make_unique<store::SqliteStore>();
  if (auto st = sqlite->open(opt_.db_path); !st) return st;
  auto seed = [&](model::Txn& t, const std::string& host) -> Status {
    if (!mgmt.is_object()) return ok_status();
    for (const auto& pif : t.where("PIF", "host", host)) {
      json r = t.get(pif)->rec;
      if (r["device"] != mgmt["device"]) continue;
      for (const char* f : {"ip_configuration_mode", "IP", "netmask", "gateway", "DNS",
                            "management", "currently_attached"})
        if (mgmt.contains(f)) r[f] = mgmt[f];
      t.put(pif, model::Object{"PIF", r});
    }
    return ok_status();
  };
  Status st = mgr_.rebase(std::move(sqlite), opt_.hostname, "", seed);
  leaving_ = false;
  if (st) spdlog::info("pool: this host is standalone again");
  return st;
}

}  // namespace hvnet
