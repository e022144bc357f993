#include "api/tasks.h"

#include <ctime>

#include "api/api_util.h"
#include "api/wire.h"
#include "model/database.h"

namespace hvnet::api {

using detail::iso_now;
using detail::ref_of;
using json = nlohmann::json;

void TaskTable::changed(const std::string& uuid, bool added) {
  if (listener_) listener_(uuid, added);
}

std::string TaskTable::create(const std::string& name, const std::string& session) {
  std::string uuid = model::new_uuid();
  {
    std::lock_guard lk(mu_);
    if (tasks_.size() >= max_) return "";
    Task t;
    t.name = name;
    t.created = iso_now();
    t.session = session;
    tasks_.emplace(uuid, std::move(t));
  }
  changed(uuid, true);
  return uuid;
}

bool TaskTable::start(const std::string& uuid) {
  std::lock_guard lk(mu_);
  auto it = tasks_.find(uuid);
  if (it == tasks_.end() || it->second.status != "pending") return false;
  it->second.started = true;
  return true;
}

void TaskTable::finish(const std::string& uuid, const Result<json>& outcome) {
  {
    std::lock_guard lk(mu_);
    auto it = tasks_.find(uuid);
    if (it == tasks_.end()) return;  // destroyed meanwhile
    Task& t = it->second;
    t.finished = iso_now();
    t.progress = 1.0;
    if (outcome) {
      t.status = "success";
      t.result = encode_xmlrpc_value(outcome.value());
    } else {
      t.status = "failure";
      t.error_info = json::array({outcome.error().code});
      for (const auto& p : outcome.error().params) t.error_info.push_back(p);
    }
  }
  changed(uuid, false);
}

Result<json> TaskTable::cancel(const std::string& uuid) {
  {
    std::lock_guard lk(mu_);
    auto it = tasks_.find(uuid);
    if (it == tasks_.end()) return make_error("HANDLE_INVALID", {"task", ref_of(uuid)});
    Task& t = it->second;
    if (t.status != "pending" || t.started)
      return make_error("OPERATION_NOT_ALLOWED",
                        {"task " + ref_of(uuid) + " is " +
                         (t.started && t.status == "pending" ? std::string("running") : t.status) +
                         " and cannot be cancelled"});
    t.status = "cancelled";
    t.finished = iso_now();
    t.error_info = json::array({"TASK_CANCELLED", ref_of(uuid)});
  }
  changed(uuid, false);
  return json("");
}

bool TaskTable::destroy(const std::string& uuid) {
  {
    std::lock_guard lk(mu_);
    if (!tasks_.erase(uuid)) return false;
  }
  changed(uuid, false);
  return true;
}

void TaskTable::forget_session(const std::string& session) {
  std::vector<std::string> gone;
  {
    std::lock_guard lk(mu_);
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      if (it->second.session == session) {
        gone.push_back(it->first);
        it = tasks_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& u : gone) changed(u, false);
}

std::optional<nlohmann::json> TaskTable::record(const std::string& uuid) const {
  std::lock_guard lk(mu_);
  auto it = tasks_.find(uuid);
  if (it == tasks_.end()) return std::nullopt;
  const Task& t = it->second;
  return json{{"uuid", uuid},
              {"name_label", t.name},
              {"name_description", ""},
              {"allowed_operations",
               t.status == "pending" && !t.started ? json::array({"cancel"}) : json::array()},
              {"current_operations", json::object()},
              {"created", t.created},
              {"finished", t.finished.empty() ? "19700101T00:00:00Z" : t.finished},
              {"status", t.status},
              {"resident_on", ref_of(host_)},
              {"progress", t.progress},
              {"type", "<none/>"},
              {"result", t.result},
              {"error_info", t.error_info},
              {"other_config", t.other_config},
              {"subtask_of", ref_of("")},
              {"subtasks", json::array()},
              {"backtrace", "()"}};
}

std::vector<std::string> TaskTable::all() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& [u, t] : tasks_) out.push_back(u);
  return out;
}

bool TaskTable::exists(const std::string& uuid) const {
  std::lock_guard lk(mu_);
  return tasks_.count(uuid) != 0;
}

Result<nlohmann::json> TaskTable::set_other_config(const std::string& uuid, const json& value) {
  {
    std::lock_guard lk(mu_);
    auto it = tasks_.find(uuid);
    if (it == tasks_.end()) return make_error("HANDLE_INVALID", {"task", ref_of(uuid)});
    it->second.other_config = value;
  }
  changed(uuid, false);
  return json("");
}

}  // namespace hvnet::api
