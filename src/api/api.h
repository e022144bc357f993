// Api: the XenAPI-compatible method table, independent of the wire format. call() takes a method
// name and its parameters as JSON values (session ref first) and returns the value or a XenAPI
// error ([CODE, params…]). Generic messages for every class come from the schema; the network
// messages call the model operations through the Manager. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "control/manager.h"
#include "model/result.h"

namespace hvnet::api {

using json = nlohmann::json;

struct Credentials {
  std::string user = "root";
  std::string password;  // empty: only local (Unix socket) logins are accepted
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

class Api {
 public:
  using Clock = std::chrono::steady_clock;
  Api(Manager& mgr, Credentials creds, SessionPolicy policy = {},
      std::function<Clock::time_point()> now = Clock::now);
  // Never throws: whatever a handler throws becomes INTERNAL_ERROR [what], logged once.
  Result<json> call(const std::string& method, const json& params, const Caller& caller);
  size_t method_count() const { return methods_.size(); }
  size_t session_count();

 private:
  using Handler = std::function<Result<json>(const json& args)>;
  struct Method {
    size_t min_args, max_args;  // not counting the session
    Handler fn;
  };
  void add(const std::string& name, size_t min_args, size_t max_args, Handler fn);
  void add(const std::string& name, size_t args, Handler fn) {
    add(name, args, args, std::move(fn));
  }
  void register_generic();
  void register_network();
  Result<json> dispatch(const std::string& method, const json& params, const Caller& caller);
  Result<json> login(const json& params, const Caller& caller);
  bool session_valid(const std::string& ref);
  // Adds live data-plane state to a record (Bond: links_up, status).
  json live(const std::string& cls, json wire_record);

  Manager& mgr_;
  Credentials creds_;
  std::map<std::string, Method> methods_;
  SessionPolicy policy_;
  std::function<Clock::time_point()> now_;
  struct Session {
    std::string user;
    Clock::time_point last_used;
  };
  struct Failures {
    unsigned count = 0;
    Clock::time_point first, blocked_until;
  };
  std::mutex sessions_mu_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, Failures> failures_;  // "user:NAME" and "addr:ADDRESS"
};

}  // namespace hvnet::api
