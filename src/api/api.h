// Api: the XenAPI-compatible method table, independent of the wire format. call_async() takes a
// method name and its parameters as JSON values (session ref first) and hands the value or a
// XenAPI error ([CODE, params…]) to a callback: at once for most calls, later for long polls
// (event.from, event.next), which hold no thread while they wait. Generic messages for every
// class come from the schema; the network messages call the model operations through the
// Manager; session, system, task and event messages live here (sessions and tasks in memory, as
// in xapi). Async.<class>.<message> runs any message as a task on the executor. Every handler
// gets a call context (session, user, origin, task). Every call but the login is checked in one
// place (dispatch) against the permission rbac.h gives it: root's sessions hold them all, a
// subject's session what its roles hold at the time of the call. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "api/audit.h"
#include "api/auth.h"
#include "api/events.h"
#include "api/tasks.h"
#include "control/manager.h"
#include "control/pool.h"
#include "model/result.h"
#include "model/roles.h"

namespace hvnet::api {

using json = nlohmann::json;

// root's logins: over the Unix socket without a password (the socket is root's alone), else with
// this password or root's system password (through the Authenticator, when there is one).
struct Credentials {
  std::string user = "root";
  std::string password;  // empty: no API-only password
};

enum class Origin { kLocal, kNetwork };  // Unix socket vs TCP

// Who is calling: the listener the request came in on and, over TCP, the peer's address.
struct Caller {
  Origin origin = Origin::kNetwork;
  std::string address;  // "" on the Unix socket
  Caller(Origin o = Origin::kNetwork, std::string addr = "")
      : origin(o), address(std::move(addr)) {}
};

// Sessions and logins. xapi's figures: a session idle for a day expires, and a user holds at most
// 500 sessions (the least recently used is destroyed to make room). Failed logins are throttled
// per user and per source address: after `free_failures` failures within `failure_window`, each
// further attempt is refused at once (no thread waits) until a back-off that doubles with every
// failure, up to `max_backoff`, has passed; a success clears the count.
struct SessionPolicy {
  std::chrono::seconds idle_expiry{24 * 3600};
  size_t max_per_user = 500;
  unsigned free_failures = 5;
  std::chrono::seconds failure_window{60};
  std::chrono::seconds max_backoff{60};
};

// What a handler knows of its call.
struct Ctx {
  std::string session;  // the caller's session ref
  std::string user;
  Caller caller;
  std::string task;  // the task uuid it runs under ("" when synchronous)
};

// Who a session is: root (every permission), or the subjects a system account logged in as (its
// own and its groups'), whose roles decide, call by call, what it may do.
struct Identity {
  bool superuser = false;
  std::string sid;                    // the account's subject identifier ("" for root)
  std::vector<std::string> subjects;  // subject uuids
};

class Api {
 public:
  using Clock = std::chrono::steady_clock;
  using Executor = std::function<void(std::function<void()>)>;
  // `threaded_events`: the event hub delivers long polls from its own thread (tests pass false
  // and drive events().pump() with the injected clock).
  Api(Manager& mgr, Credentials creds, SessionPolicy policy = {},
      std::function<Clock::time_point()> now = Clock::now, EventHub::Limits events = {},
      bool threaded_events = true);
  ~Api();
  // Never throws: whatever a handler throws becomes INTERNAL_ERROR [what], logged once. `done` is
  // called exactly once, maybe later and from another thread (long polls).
  void call_async(const std::string& method, const json& params, const Caller& caller, Reply done);
  // The same, waiting for the answer (tests, fuzzers; a long poll blocks the calling thread).
  Result<json> call(const std::string& method, const json& params, const Caller& caller);
  // What the host's TLS calls do to the daemon's listeners (set by hvnetd; unset: refused).
  struct TlsHooks {
    // host.install_server_certificate: check and serve a new identity (PEM), keep it on disk.
    std::function<Status(const std::string& cert, const std::string& key, const std::string& chain)>
        install;
    // host.set_https_only: true closes plain HTTP over TCP, false opens it again.
    std::function<Status(bool https_only)> https_only;
    std::function<std::string()> certificate;  // host.get_server_certificate
  };
  void set_tls_hooks(TlsHooks h) { tls_ = std::move(h); }
  // This host's pool membership (unset: standalone for good; pool.join refused).
  void set_pool(PoolMember* p) { pool_ = p; }
  // System accounts for logins and subjects (unset: root alone, with the password or locally).
  void set_authenticator(std::shared_ptr<Authenticator> a) { auth_ = std::move(a); }
  // Where writes and logins are recorded (unset: nowhere); pool.audit_log_get reads it back.
  void set_audit_log(std::shared_ptr<AuditLog> log) { audit_ = std::move(log); }
  // Where Async.* tasks run (the HTTP server's handler pool); by default, at once in the call.
  void set_executor(Executor run) { executor_ = std::move(run); }
  size_t method_count() const { return methods_.size(); }
  // Calls answered so far, per method (unknown methods counted under "unknown").
  struct CallCount {
    uint64_t calls = 0, errors = 0;
    double seconds = 0;  // summed from call to answer
  };
  std::map<std::string, CallCount> call_counts() const;
  // /metrics: the switch's counters, bonds, MAC table and the API's calls, in the Prometheus
  // text format (console_calls.cc).
  std::string metrics_text();
  size_t session_count();
  EventHub& events() { return *events_; }
  TaskTable& tasks() { return *tasks_; }

 private:
  using Handler = std::function<Result<json>(const Ctx&, const json& args)>;
  using AsyncHandler = std::function<void(const Ctx&, const json& args, Reply done)>;
  struct Method {
    size_t min_args, max_args;  // not counting the session
    Handler fn;                 // or, for long polls:
    AsyncHandler async_fn;
  };
  void add(const std::string& name, size_t min_args, size_t max_args, Handler fn);
  void add(const std::string& name, size_t args, Handler fn) {
    add(name, args, args, std::move(fn));
  }
  // Handlers that need no context.
  void add(const std::string& name, size_t min_args, size_t max_args,
           std::function<Result<json>(const json& args)> fn);
  void add(const std::string& name, size_t args, std::function<Result<json>(const json&)> fn) {
    add(name, args, args, std::move(fn));
  }
  void add_async(const std::string& name, size_t min_args, size_t max_args, AsyncHandler fn);
  // <cls>.get_record and <cls>.get_<field> for objects kept outside the store (sessions, tasks),
  // from a function that finds one object's record by its ref.
  void add_record_getters(const std::string& cls, const std::vector<std::string>& fields,
                          std::function<Result<json>(const json& self)> record);
  // A write on one object (the call's first argument, of class `cls`): resolve the ref, run `op`,
  // return void.
  std::function<Result<json>(const json&)> on_object(
      const std::string& cls, std::function<Status(model::Txn&, const std::string&)> op);
  void register_generic();
  void register_network();
  void register_session();   // session.*, system.*     (session_calls.cc)
  void register_tasks();     // task.*, Async.*          (session_calls.cc)
  void register_events();    // event.*                  (session_calls.cc)
  void register_metrics();   // PIF_metrics.*, *.query_data_source (metrics_calls.cc)
  void register_pool();      // join, eject, master election calls (pool_calls.cc)
  void register_security();  // host TLS calls, pool.audit_log_get (security_calls.cc)
  void register_tunnels();   // tunnel.create, tunnel.destroy (tunnel_calls.cc)
  void register_sriov();     // network_sriov.*, VM.start and shutdowns (sriov_calls.cc)
  void register_mirrors();   // port_mirror.create, .destroy (mirror_calls.cc)
  void register_xl();        // VIF.create_from_xl_spec (xl_calls.cc)
  void register_console();   // switch counters, drops, MAC tables, traces (console_calls.cc)
  // A host argument that must be this host (the data plane's counters are its own).
  Result<std::string> local_host_arg(const json& ref);
  void register_subjects();  // subject.*, role.*, auth.*, session subject calls (subject_calls.cc)
  void dispatch(const std::string& method, const json& params, const Caller& caller, Reply done);
  Result<json> login(const json& params, const Caller& caller);
  // Who `user` is if `password` is theirs; blocks on PAM, holds no lock.
  Result<Identity> authenticate(const std::string& user, const std::string& password,
                                const Caller& caller);
  // The best role the subjects have now: nullopt when they have none; SESSION_INVALID when none
  // of them exists any more.
  Result<std::optional<model::Role>> role_of(const std::vector<std::string>& subjects);
  // Every permission name hvnet has that `role` holds (nullopt: root, all of them).
  const std::vector<std::string>& permissions(std::optional<model::Role> role) const;
  std::map<model::Role, std::vector<std::string>> permissions_;  // built once, per role
  struct Session;
  // The session if it is valid (and marks it used), else nullopt.
  std::optional<Session> session_of(const std::string& ref);
  Result<json> login_here(const json& params, const Caller& caller);
  void end_session(const std::string& ref);
  // The current wire record of any object, for events (nullopt: gone).
  std::optional<json> snapshot(const std::string& cls, const std::string& uuid);
  // Adds live data-plane state to a record (Bond: links_up, status; port_mirror: status).
  json live(const std::string& cls, json wire_record);
  static bool has_live(const std::string& cls) { return cls == "Bond" || cls == "port_mirror"; }

  Manager& mgr_;
  Credentials creds_;
  std::shared_ptr<Authenticator> auth_;
  TlsHooks tls_;
  PoolMember* pool_ = nullptr;
  std::shared_ptr<AuditLog> audit_;
  void audit(const std::string& who, const Caller& caller, const std::string& method,
             const json& args, const Result<json>& r);
  std::map<std::string, Method> methods_;
  SessionPolicy policy_;
  std::function<Clock::time_point()> now_;
  struct Session {
    std::string user;
    Clock::time_point last_used;
    std::string uuid, originator, created;
    Identity who;
  };
  struct Failures {
    unsigned count = 0;
    Clock::time_point first, blocked_until;
  };
  mutable std::mutex calls_mu_;
  std::map<std::string, CallCount> calls_;
  std::mutex sessions_mu_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, Failures> failures_;  // "user:NAME" and "addr:ADDRESS"
  Executor executor_ = [](std::function<void()> f) { f(); };
  std::unique_ptr<TaskTable> tasks_;
  std::unique_ptr<EventHub> events_;  // last: its thread reads the rest
  int listener_ = 0;                  // on the Manager's change feed
};

}  // namespace hvnet::api
