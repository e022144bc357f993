// TaskTable: the API's tasks, in memory as in xapi. Async.<class>.<message> creates one (pending),
// runs the call on the API's executor and records its outcome: status success with `result` (the
// value XML-RPC-encoded, as xapi stores it) or failure with error_info [code, params…]. Clients
// wait on a task through event.from(["task"]) and then destroy it. Every change is reported to a
// listener (the event hub). Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/result.h"

namespace hvnet::api {

class TaskTable {
 public:
  using json = nlohmann::json;
  // (uuid, added): a task was created, changed, or destroyed (then it is gone from the table).
  using Listener = std::function<void(const std::string& uuid, bool added)>;
  explicit TaskTable(std::string host_uuid, size_t max_tasks = 10000)
      : host_(std::move(host_uuid)), max_(max_tasks) {}
  void set_listener(Listener l) { listener_ = std::move(l); }

  // A new pending task for `session`; "" when the table is full (TOO_MANY_TASKS).
  std::string create(const std::string& name, const std::string& session);
  // Marks the task running; false if it was cancelled before it started.
  bool start(const std::string& uuid);
  void finish(const std::string& uuid, const Result<json>& outcome);
  Result<json> cancel(const std::string& uuid);
  bool destroy(const std::string& uuid);
  // Destroys the tasks of a session that ended.
  void forget_session(const std::string& session);

  std::optional<json> record(const std::string& uuid) const;  // wire record
  std::vector<std::string> all() const;
  bool exists(const std::string& uuid) const;
  Result<json> set_other_config(const std::string& uuid, const json& value);

 private:
  struct Task {
    std::string name, status = "pending", created, finished, result, session;
    double progress = 0;
    json error_info = json::array();
    json other_config = json::object();
    bool started = false;
  };
  void changed(const std::string& uuid, bool added);
  std::string host_;
  size_t max_;
  Listener listener_;
  mutable std::mutex mu_;
  std::map<std::string, Task> tasks_;
};

}  // namespace hvnet::api
