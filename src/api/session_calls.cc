// The API's own classes: session and system (who is calling, what can be called), event (the
// change feed, long-polled) and task (asynchronous calls). Sessions and tasks live in memory.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::add_record_getters(const std::string& cls, const std::vector<std::string>& fields,
                             std::function<Result<json>(const json& self)> record) {
  add(cls + ".get_record", 1, [record](const json& a) { return record(a[0]); });
  for (const auto& field : fields) {
    add(cls + ".get_" + field, 1, [record, field](const json& a) -> Result<json> {
      auto r = record(a[0]);
      if (!r) return r;
      return r.value()[field];
    });
  }
}

void Api::register_session() {
  add("session.logout", 0, [this](const Ctx& ctx, const json&) -> Result<json> {
    end_session(ctx.session);
    return void_value();
  });
  // A session's record, from the table (a session is named by its ref).
  auto record = [this](const json& self) -> Result<json> {
    if (!self.is_string()) return make_error("HANDLE_INVALID", {"session", self.dump()});
    const std::string ref = self;
    std::string host = mgr_.read([](const Txn& t) { return model::local_host(t); });
    std::unique_lock lk(sessions_mu_);
    auto it = sessions_.find(ref);
    if (it == sessions_.end()) return make_error("HANDLE_INVALID", {"session", ref});
    const Session s = it->second;
    lk.unlock();
    std::optional<model::Role> role;
    if (!s.who.superuser) {
      auto r = role_of(s.who.subjects);
      if (!r) return r.error();
      role = r.value();
    }
    json perms = json::array();
    if (s.who.superuser || role)
      for (auto& p : permissions(s.who.superuser ? std::nullopt : role)) perms.push_back(p);
    return json{{"uuid", s.uuid},
                {"this_host", ref_of(host)},
                {"this_user", ref_of("")},
                {"last_active", iso_now()},
                {"pool", false},
                {"other_config", json::object()},
                {"is_local_superuser", s.who.superuser},
                {"subject", ref_of(s.who.subjects.empty() ? "" : s.who.subjects.front())},
                {"validation_time", s.created},
                {"auth_user_sid", s.who.sid},
                {"auth_user_name", s.user},
                {"rbac_permissions", perms},
                {"tasks", json::array()},
                {"parent", ref_of("")},
                {"originator", s.originator}};
  };
  add_record_getters("session",
                     {"uuid", "this_host", "this_user", "last_active", "pool", "other_config",
                      "is_local_superuser", "subject", "validation_time", "auth_user_sid",
                      "auth_user_name", "rbac_permissions", "tasks", "parent", "originator"},
                     record);
  add("session.get_by_uuid", 1, [this](const json& a) -> Result<json> {
    std::lock_guard lk(sessions_mu_);
    for (const auto& [ref, s] : sessions_)
      if (a[0].is_string() && s.uuid == a[0].get<std::string>()) return json(ref);
    return make_error("UUID_INVALID", {"session", a[0].is_string() ? a[0].get<std::string>() : ""});
  });
  add("system.listMethods", 0, [this](const json&) -> Result<json> {
    json names = json::array({"session.login_with_password"});
    for (const auto& [name, m] : methods_) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
  });
}

void Api::register_events() {
  add_async("event.from", 3, 3, [this](const Ctx&, const json& a, Reply done) {
    events_->from(a[0], a[1], a[2], std::move(done));
  });
  add_async("event.next", 0, 0, [this](const Ctx& ctx, const json&, Reply done) {
    events_->next(ctx.session, std::move(done));
  });
  add("event.register", 1, [this](const Ctx& ctx, const json& a) {
    return events_->register_classes(ctx.session, a[0]);
  });
  add("event.unregister", 1, [this](const Ctx& ctx, const json& a) {
    return events_->unregister_classes(ctx.session, a[0]);
  });
  add("event.get_current_id", 0,
      [this](const json&) -> Result<json> { return json(std::to_string(mgr_.generation())); });
  // An event for one object without changing it (clients use it as a barrier and for a token).
  add("event.inject", 2, [this](const json& a) -> Result<json> {
    if (!a[0].is_string()) return make_error("FIELD_TYPE_ERROR", {"class"});
    std::string cls;
    for (const auto& c : model::all_classes())
      if (lower(c.name) == lower(a[0].get<std::string>())) cls = c.name;
    if (cls.empty()) return make_error("HANDLE_INVALID", {a[0].get<std::string>(), a[1].dump()});
    if (cls == "task") {
      const std::string uuid = a[1].is_string() ? uuid_of_ref(a[1].get<std::string>()) : "";
      if (!tasks_->exists(uuid)) return make_error("HANDLE_INVALID", {"task", a[1].dump()});
      events_->on_memory_change("task", uuid, false);
      return json(events_->current_token());
    }
    auto r = mgr_.write([&](Txn& t) -> Result<json> {
      auto u = resolve(t, cls, a[1]);
      if (!u) return u.error();
      t.put(u.value(), *t.get(u.value()));  // rewritten as it is: a "mod" and a new generation
      return void_value();
    });
    if (!r) return r;
    return json(events_->current_token());
  });
}

void Api::register_tasks() {
  const model::ClassSpec* spec = model::find_class("task");
  auto task_of = [](const json& ref) {
    return ref.is_string() ? uuid_of_ref(ref.get<std::string>()) : std::string();
  };
  add("task.get_all", 0, [this](const json&) -> Result<json> {
    json out = json::array();
    for (const auto& u : tasks_->all()) out.push_back(ref_of(u));
    return out;
  });
  add("task.get_all_records", 0, [this](const json&) -> Result<json> {
    json out = json::object();
    for (const auto& u : tasks_->all())
      if (auto r = tasks_->record(u)) out[ref_of(u)] = *r;
    return out;
  });
  auto record = [this, task_of](const json& ref) -> Result<json> {
    auto r = tasks_->record(task_of(ref));
    if (!r)
      return make_error("HANDLE_INVALID",
                        {"task", ref.is_string() ? ref.get<std::string>() : ref.dump()});
    return *r;
  };
  std::vector<std::string> fields;
  for (const auto& f : spec->fields) fields.push_back(f.wire);
  add_record_getters("task", fields, record);
  add("task.get_by_uuid", 1, [this](const json& a) -> Result<json> {
    std::string u = a[0].is_string() ? a[0].get<std::string>() : a[0].dump();
    if (!tasks_->exists(u)) return make_error("UUID_INVALID", {"task", u});
    return json(ref_of(u));
  });
  add("task.get_by_name_label", 1, [this](const json& a) -> Result<json> {
    json out = json::array();
    for (const auto& u : tasks_->all())
      if (auto r = tasks_->record(u); r && (*r)["name_label"] == a[0]) out.push_back(ref_of(u));
    return out;
  });
  add("task.create", 2, [this](const Ctx& ctx, const json& a) -> Result<json> {
    if (!a[0].is_string()) return make_error("FIELD_TYPE_ERROR", {"label"});
    std::string u = tasks_->create(a[0], ctx.session);
    if (u.empty()) return make_error("TOO_MANY_TASKS");
    return json(ref_of(u));
  });
  add("task.cancel", 1, [this, task_of](const json& a) { return tasks_->cancel(task_of(a[0])); });
  add("task.destroy", 1, [this, task_of](const json& a) -> Result<json> {
    if (!tasks_->destroy(task_of(a[0])))
      return make_error("HANDLE_INVALID",
                        {"task", a[0].is_string() ? a[0].get<std::string>() : ""});
    return void_value();
  });
  add("task.set_other_config", 2, [this, task_of](const json& a) -> Result<json> {
    if (!a[1].is_object()) return make_error("FIELD_TYPE_ERROR", {"other_config"});
    return tasks_->set_other_config(task_of(a[0]), a[1]);
  });
  for (bool adding : {true, false}) {
    add(adding ? "task.add_to_other_config" : "task.remove_from_other_config", adding ? 3 : 2,
        [this, task_of, adding](const json& a) -> Result<json> {
          auto r = tasks_->record(task_of(a[0]));
          if (!r) return make_error("HANDLE_INVALID", {"task", a[0].dump()});
          if (!a[1].is_string() || (adding && !a[2].is_string()))
            return make_error("FIELD_TYPE_ERROR", {"other_config"});
          json oc = (*r)["other_config"];
          if (adding)
            oc[a[1].get<std::string>()] = a[2];
          else
            oc.erase(a[1].get<std::string>());
          return tasks_->set_other_config(task_of(a[0]), oc);
        });
  }

  // Async.<class>.<message>: every message that acts (not the getters, nor the API's own
  // classes) runs as a task on the executor; the call answers with the task's ref at once.
  std::vector<std::pair<std::string, Method>> actions;
  for (const auto& [name, m] : methods_) {
    const std::string cls = name.substr(0, name.find('.'));
    const std::string msg = name.substr(name.find('.') + 1);
    if (cls == "session" || cls == "event" || cls == "system" || cls == "task" || !m.fn) continue;
    if (msg.rfind("get_", 0) == 0) continue;
    actions.emplace_back(name, m);
  }
  for (auto& [name, m] : actions) {
    Handler fn = m.fn;
    const std::string task_name = "Async." + name;
    add("Async." + name, m.min_args, m.max_args,
        [this, fn, task_name](const Ctx& ctx, const json& a) -> Result<json> {
          std::string uuid = tasks_->create(task_name, ctx.session);
          if (uuid.empty()) return make_error("TOO_MANY_TASKS");
          Ctx inner = ctx;
          inner.task = uuid;
          executor_([this, fn, inner, a, uuid] {
            if (!tasks_->start(uuid)) return;  // cancelled before it ran
            Result<json> r = make_error("INTERNAL_ERROR", {"task did not run"});
            try {
              r = fn(inner, a);
            } catch (const std::exception& e) {
              spdlog::error("task {} failed: {}", uuid, e.what());
              r = make_error("INTERNAL_ERROR", {e.what()});
            }
            tasks_->finish(uuid, r);
          });
          return json(ref_of(uuid));
        });
  }
}

}  // namespace hvnet::api
