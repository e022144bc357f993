// EtcdClient: etcd's v3 API through its JSON gateway (POST /v3/kv/range, /v3/kv/txn, /v3/lease/…)
// over Boost.Beast HTTP/1.1, plain or TLS with a client certificate. Why the gateway and not gRPC:
// every etcd since 3.3 serves it on the client port, it needs no generated code and no second RPC
// stack in the daemon (Beast and OpenSSL are here already for the API), and a JSON request is
// what hvnet's records already are. Keys and values are base64 on the wire; 64-bit numbers are
// strings (both handled here). One keep-alive connection, blocking calls with a deadline; the
// next endpoint is tried when one cannot be reached. Not thread-safe: one per caller thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.h"

namespace hvnet::store {

struct EtcdEndpoint {
  std::string host;  // address or name
  uint16_t port = 2379;
  bool tls = false;
  std::string ca_file, cert_file, key_file;  // TLS: the CA to trust, hvnetd's client identity
};

// "http://127.0.0.1:2379,https://10.0.0.2:2379" (scheme optional: http).
Result<std::vector<EtcdEndpoint>> parse_etcd_endpoints(const std::string& list);

// Errors: ETCD_UNAVAILABLE [endpoints, reason] when no endpoint answers; ETCD_ERROR [http status,
// etcd's message] when one refuses the request.
inline constexpr const char* kEtcdUnavailable = "ETCD_UNAVAILABLE";

class EtcdClient {
 public:
  explicit EtcdClient(std::vector<EtcdEndpoint> endpoints,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // POST /v3/<path> with `body`; etcd's JSON answer.
  Result<nlohmann::json> call(const std::string& path, const nlohmann::json& body);

  // Leases (host liveness, the master's claim): a lease of `ttl_s` seconds; its ID.
  Result<int64_t> lease_grant(int64_t ttl_s);
  // Renews lease `id`; its remaining TTL (0: the lease had expired, and keys under it are gone).
  Result<int64_t> lease_keepalive(int64_t id);
  Status lease_revoke(int64_t id);

  // Watches every key under `prefix` from revision `start` (0: from now) on a connection of its
  // own: `on_revision` gets the revision of each batch of events as they arrive, and `keep_going`
  // is asked between them (at least every `tick`). Returns when `keep_going` or `on_revision`
  // says stop (ok), or with the error that ended the stream (the caller reconnects; compacted
  // history comes back as ETCD_ERROR [compacted, revision]).
  Status watch(const std::string& prefix, uint64_t start,
               const std::function<bool(uint64_t revision)>& on_revision,
               const std::function<bool()>& keep_going,
               std::chrono::milliseconds tick = std::chrono::milliseconds(250));

  static std::string b64(std::string_view raw);
  static std::string unb64(std::string_view text);  // "" for invalid input
  // The end of the range of every key that starts with `prefix` (etcd's range_end), base64.
  static std::string prefix_end(std::string_view prefix);
  // A 64-bit field of an answer (etcd writes them as strings; absent = 0).
  static uint64_t u64(const nlohmann::json& obj, const char* field);

 private:
  struct Conn;
  // A connection (TLS handshaken when the endpoint wants it) to endpoints_[current_]; nullptr and
  // `why` when it cannot be made.
  std::unique_ptr<Conn> connect(std::string* why);
  std::vector<EtcdEndpoint> endpoints_;
  std::chrono::milliseconds timeout_;
  size_t current_ = 0;  // the endpoint that answered last
  std::unique_ptr<Conn> conn_;
};

}  // namespace hvnet::store
