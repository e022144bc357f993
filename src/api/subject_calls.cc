// Users and roles: subject.* (who besides root may log in), role.* (the fixed roles and what they
// hold), auth.* (the system's accounts, as xapi's local authentication names them) and the session
// calls that act on subjects' sessions. The permission rules themselves are in rbac.cc.
#include <algorithm>
#include <set>

#include "api/api.h"
#include "api/api_util.h"
#include "api/rbac.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

namespace {

std::string arg_text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

void Api::register_subjects() {
  using model::Role;
  auto role_ref = [](Role r) { return ref_of(rbac::role_uuid(r)); };
  auto role_named = [](const json& ref) -> std::optional<Role> {
    return ref.is_string() ? rbac::role_of_uuid(uuid_of_ref(ref.get<std::string>())) : std::nullopt;
  };

  // subject
  add("subject.create", 1, [this](const json& a) -> Result<json> {
    if (!a[0].is_object() || !a[0].contains("subject_identifier") ||
        !a[0]["subject_identifier"].is_string())
      return make_error("FIELD_TYPE_ERROR", {"subject_identifier"});
    const std::string sid = a[0]["subject_identifier"];
    // What the directory says replaces what the caller gave, as in xapi.
    auto info = auth_ ? subject_information(*auth_, sid) : std::nullopt;
    if (!info) return make_error("SUBJECT_CANNOT_BE_RESOLVED", {sid});
    json oc = json::object();
    for (const auto& [k, v] : *info) oc[k] = v;
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto u = model::subject_create(t, sid, oc);
      if (!u) return u.error();
      return json(ref_of(u.value()));
    });
  });
  add("subject.destroy", 1, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto u = resolve(t, "subject", a[0]);
      if (!u) return u.error();
      t.erase(u.value());  // its sessions fail their next call (Api::dispatch)
      return void_value();
    });
  });
  for (bool adding : {true, false}) {
    add(adding ? "subject.add_to_roles" : "subject.remove_from_roles", 2,
        [this, adding, role_named](const json& a) -> Result<json> {
          return mgr_.write([&](Txn& t) -> Result<json> {
            auto u = resolve(t, "subject", a[0]);
            if (!u) return u.error();
            auto role = role_named(a[1]);
            if (!role) return make_error("ROLE_NOT_FOUND", {});
            const std::string r = rbac::role_uuid(*role);
            Status st = adding ? model::subject_add_role(t, u.value(), r)
                               : model::subject_remove_role(t, u.value(), r);
            if (!st) return st.error();
            return void_value();
          });
        });
  }
  add("subject.get_permissions_name_label", 1, [this](const json& a) -> Result<json> {
    auto u = mgr_.read([&](const Txn& t) { return resolve(t, "subject", a[0]); });
    if (!u) return u.error();
    auto role = role_of({u.value()});
    if (!role) return role.error();
    json out = json::array();
    if (role.value())
      for (auto& p : permissions(role.value())) out.push_back(p);
    return out;
  });

  // role: the fixed roles, named by xapi's uuids
  auto record = [](Role r) {
    const auto& info = model::all_roles()[static_cast<size_t>(r)];
    return json{{"uuid", rbac::role_uuid(r)},
                {"name_label", std::string(info.name)},
                {"name_description", std::string(info.description)},
                {"subroles", json::array()},
                {"is_internal", false}};
  };
  add_record_getters("role", {"uuid", "name_label", "name_description", "subroles", "is_internal"},
                     [record, role_named](const json& self) -> Result<json> {
                       auto r = role_named(self);
                       if (!r) return make_error("HANDLE_INVALID", {"role", arg_text(self)});
                       return record(*r);
                     });
  add("role.get_all", 0, [role_ref](const json&) -> Result<json> {
    json out = json::array();
    for (const auto& r : model::all_roles()) out.push_back(role_ref(r.role));
    return out;
  });
  add("role.get_all_records", 0, [role_ref, record](const json&) -> Result<json> {
    json out = json::object();
    for (const auto& r : model::all_roles()) out[role_ref(r.role)] = record(r.role);
    return out;
  });
  add("role.get_by_uuid", 1, [role_ref](const json& a) -> Result<json> {
    auto r = a[0].is_string() ? rbac::role_of_uuid(a[0].get<std::string>()) : std::nullopt;
    if (!r) return make_error("UUID_INVALID", {"role", arg_text(a[0])});
    return json(role_ref(*r));
  });
  add("role.get_by_name_label", 1, [role_ref](const json& a) -> Result<json> {
    json out = json::array();
    auto r = a[0].is_string() ? model::role_by_name(a[0].get<std::string>()) : std::nullopt;
    if (r) out.push_back(role_ref(*r));
    return out;
  });
  add("role.get_permissions_name_label", 1, [this, role_named](const json& a) -> Result<json> {
    auto r = role_named(a[0]);
    if (!r) return make_error("HANDLE_INVALID", {"role", arg_text(a[0])});
    json out = json::array();
    for (auto& p : permissions(*r)) out.push_back(p);
    return out;
  });
  add("role.get_by_permission_name_label", 1, [role_ref](const json& a) -> Result<json> {
    if (!a[0].is_string()) return make_error("FIELD_TYPE_ERROR", {"label"});
    // The permission's own name is the call it guards (a "/key:" suffix guards one map key).
    std::string label = a[0];
    std::string method = label.substr(0, label.find('/'));
    json args = json::array();
    if (auto k = label.find("/key:"); k != std::string::npos)
      args = json::array({nullptr, label.substr(k + 5)});
    json out = json::array();
    const rbac::Permission p = rbac::permission_of(method, args);
    for (const auto& r : model::all_roles())
      if (model::role_holds(r.role, p.role)) out.push_back(role_ref(r.role));
    return out;
  });

  // auth: the system's accounts
  add("auth.get_subject_identifier", 1, [this](const json& a) -> Result<json> {
    auto sid = auth_ && a[0].is_string() ? subject_identifier_of(*auth_, a[0]) : std::nullopt;
    if (!sid) return make_error("SUBJECT_CANNOT_BE_RESOLVED", {arg_text(a[0])});
    return json(*sid);
  });
  add("auth.get_subject_information_from_identifier", 1, [this](const json& a) -> Result<json> {
    auto info = auth_ && a[0].is_string() ? subject_information(*auth_, a[0]) : std::nullopt;
    if (!info) return make_error("SUBJECT_CANNOT_BE_RESOLVED", {arg_text(a[0])});
    return json(*info);
  });
  add("auth.get_group_membership", 1, [this](const json& a) -> Result<json> {
    auto info = auth_ && a[0].is_string() ? subject_information(*auth_, a[0]) : std::nullopt;
    if (!info) return make_error("SUBJECT_CANNOT_BE_RESOLVED", {arg_text(a[0])});
    json out = json::array();
    if (auto u = (*info)["subject-is-group"] == "false" ? auth_->user((*info)["subject-name"])
                                                        : std::nullopt)
      for (const auto& sid : membership(*u))
        if (sid[0] == 'g') out.push_back(sid);
    return out;
  });

  // sessions of subjects
  add("session.get_all_subject_identifiers", 0, [this](const json&) -> Result<json> {
    std::set<std::string> sids;
    std::lock_guard lk(sessions_mu_);
    for (const auto& [ref, s] : sessions_)
      if (!s.who.superuser && !s.who.sid.empty()) sids.insert(s.who.sid);
    return json(std::vector<std::string>(sids.begin(), sids.end()));
  });
  add("session.logout_subject_identifier", 1,
      [this](const Ctx& ctx, const json& a) -> Result<json> {
        if (!a[0].is_string()) return make_error("FIELD_TYPE_ERROR", {"subject_identifier"});
        const std::string sid = a[0];
        // Sessions that logged in as this account, or through this group's subject.
        auto via = mgr_.read([&](const Txn& t) { return model::subjects_of(t, {sid}); });
        std::vector<std::string> ended;
        {
          std::lock_guard lk(sessions_mu_);
          for (const auto& [ref, s] : sessions_) {
            if (s.who.superuser || ref == ctx.session) continue;  // never root, nor the caller
            bool match = s.who.sid == sid;
            for (const auto& subj : via)
              match |= std::find(s.who.subjects.begin(), s.who.subjects.end(), subj) !=
                       s.who.subjects.end();
            if (match) ended.push_back(ref);
          }
        }
        for (const auto& ref : ended) end_session(ref);
        return void_value();
      });
}

}  // namespace hvnet::api
