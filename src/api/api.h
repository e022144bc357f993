// Api: the XenAPI-compatible method table, independent of the wire format. call() takes a method
// name and its parameters as JSON values (session ref first) and returns the value or a XenAPI
// error ([CODE, params…]). Generic messages for every class come from the schema; the network
// messages call the model operations through the Manager. Thread-safe.
#pragma once

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

class Api {
 public:
  Api(Manager& mgr, Credentials creds);
  Result<json> call(const std::string& method, const json& params, Origin origin);
  size_t method_count() const { return methods_.size(); }

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
  Result<json> login(const json& params, Origin origin);
  // Adds live data-plane state to a record (Bond: links_up, status).
  json live(const std::string& cls, json wire_record);

  Manager& mgr_;
  Credentials creds_;
  std::map<std::string, Method> methods_;
  std::mutex sessions_mu_;
  std::set<std::string> sessions_;
};

}  // namespace hvnet::api
