// Pool membership of this host: which store it is on, joining and leaving, the master election.
//
// A standalone host keeps its objects in SQLite. A pool member keeps them in the pool's etcd;
// `<state dir>/pool.json` (0600, with the etcd client identity next to it in pool/) says which:
//   {"pool": uuid, "host": this host's uuid, "endpoints": "https://…:2379,…", "prefix": …,
//    "ca_file", "cert_file", "key_file", "master_address", "master_fingerprint"}
// Only hvnetd holds that identity: etcd is run with client-certificate authentication, so no one
// writes the pool's objects past the API's RBAC and audit log.
//
// While in a pool, two threads run (each with its own etcd connection):
//  - the watcher follows etcd's watch of the pool's keys and folds every other member's commit
//    into this host's model and data plane (Manager::catch_up); it reconnects and catches up
//    when etcd comes back. When this host's record goes (pool.eject through any member) the host
//    returns to standalone.
//  - the lease keeper holds this host's lease (live/<host>, TTL kLeaseTtlS, renewed every
//    second) and campaigns for the master key: whoever holds it is the master and writes itself
//    into pool.master. When the master dies its lease expires and another member takes the key:
//    a new master within kLeaseTtlS + 1 s, with no admin action.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "control/manager.h"
#include "store/etcd_client.h"

namespace hvnet {

struct PoolConfig {
  std::string pool, host, endpoints, prefix = "/hvnet/pool/";
  std::string ca_file, cert_file, key_file;
  std::string master_address, master_fingerprint;
};

Result<std::optional<PoolConfig>> read_pool_config(const std::string& path);
Status write_pool_config(const std::string& path, const PoolConfig& cfg);
// The endpoints with the TLS files of the config.
Result<std::vector<store::EtcdEndpoint>> pool_endpoints(const PoolConfig& cfg);

class PoolMember {
 public:
  static constexpr int kLeaseTtlS = 3;
  struct Options {
    std::string state_dir;  // where pool.json and pool/ live (the database's directory)
    std::string db_path;    // the standalone SQLite database (recreated on leaving a pool)
    std::string hostname;
  };
  PoolMember(Manager& mgr, Options opt);
  ~PoolMember();

  std::string config_path() const { return opt_.state_dir + "/pool.json"; }
  // A new pool on an etcd that holds none: this standalone host's objects (`standalone`) go into
  // it, it is the pool's first member and master, and pool.json is written. `draft`: endpoints,
  // prefix and the etcd client identity files (copied into pool/). Returns the config.
  static Result<PoolConfig> found(store::Store& standalone, PoolConfig draft,
                                  const std::string& state_dir);
  // The pool this host is in (nullopt: standalone).
  std::optional<PoolConfig> config();
  // Starts the watcher and lease keeper of `cfg` (the manager already runs on its etcd).
  void start(PoolConfig cfg);
  void stop();

  // pool.join on the joining host: the master's API over HTTPS (its certificate pinned on first
  // use), its pool's etcd identity, this host's objects into the pool, then this host onto it.
  // Returns the pinned fingerprint.
  Result<std::string> join(const std::string& master_address, const std::string& user,
                           const std::string& password);
  // What a joining host receives from a member (pool.join_credentials).
  Result<nlohmann::json> credentials();
  // This host back to a standalone SQLite store, keeping its management interface (pool.eject
  // of this host, or its record gone from the pool).
  Status leave();
  // The elected master's host uuid ("" unknown).
  std::string master();
  // pool.designate_new_master: the master hands its key to `host` (a live member).
  Status designate(const std::string& host);
  // pool.emergency_transition_to_master: this host takes the key whoever holds it.
  Status take_over();
  // Pool-wide sessions: a session made on one member is valid on every other (session/<uuid>
  // in etcd, written at login, removed at logout, gone after at most 25 h). No-ops on a
  // standalone host.
  void share_session(const std::string& ref, const nlohmann::json& session);
  std::optional<nlohmann::json> shared_session(const std::string& ref);
  void unshare_session(const std::string& ref);
  // PIF.scan of another member: a request in its host record (other_config pif-scan-request),
  // which that member answers by scanning its NICs (pif-scan-done). HOST_OFFLINE [host] when
  // it has not answered within `timeout`.
  Status scan_on(const std::string& host,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void watch_loop();
  void lease_loop();
  // Sleeps up to `d` unless stopping; false when stopping.
  bool pause(std::chrono::milliseconds d);
  void remember_management();
  // Answers the requests other members left in this host's record (a PIF scan).
  void serve_requests();

  Manager& mgr_;
  Options opt_;
  std::mutex sessions_mu_;  // the sessions' etcd client (one caller at a time)
  std::unique_ptr<store::EtcdClient> sessions_etcd_;
  // Shared sessions go under a lease of a day and an hour, a new one each hour: a session key
  // lives at most that long in etcd whether or not its client logs out (on the member that made
  // it, the session lives on as long as it is used).
  int64_t sessions_lease_ = 0;
  std::chrono::steady_clock::time_point sessions_lease_at_;
  // The sessions' client on the pool's etcd (nullptr standalone); caller holds sessions_mu_.
  store::EtcdClient* sessions_client(std::string* key_prefix);
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<PoolConfig> cfg_;
  std::atomic<bool> running_{false};
  std::atomic<bool> leaving_{false};
  std::thread watcher_, keeper_;
  std::string master_;
  int64_t lease_ = 0;
  nlohmann::json mgmt_;  // this host's management PIF as last seen (kept on leaving)
};

}  // namespace hvnet
