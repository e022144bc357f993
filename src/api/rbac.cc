#include "api/rbac.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "api/api_util.h"
#include "model/schema.h"

namespace hvnet::api::rbac {

namespace {

using R = Role;

// Messages whose role is not the one rules 2-4 would give them (xapi's ~allowed_roles).
const std::map<std::string, Role, std::less<>>& message_roles() {
  static const std::map<std::string, Role, std::less<>> table = {
      {"network.add_purpose", R::kPoolAdmin},
      {"network.remove_purpose", R::kPoolAdmin},
      {"network.set_default_locking_mode", R::kPoolOperator},
      {"VIF.set_locking_mode", R::kPoolOperator},
      {"VIF.set_ipv4_allowed", R::kPoolOperator},
      {"VIF.add_ipv4_allowed", R::kPoolOperator},
      {"VIF.remove_ipv4_allowed", R::kPoolOperator},
      {"VIF.set_ipv6_allowed", R::kPoolOperator},
      {"VIF.add_ipv6_allowed", R::kPoolOperator},
      {"VIF.remove_ipv6_allowed", R::kPoolOperator},
      {"host.get_management_interface", R::kPoolOperator},
      {"host.install_server_certificate", R::kPoolAdmin},
      {"host.query_data_source", R::kReadOnly},
      {"VM.query_data_source", R::kReadOnly},
      {"VM.start", R::kVmOperator},
      {"VM.clean_shutdown", R::kVmOperator},
      {"VM.hard_shutdown", R::kVmOperator},
      // hvnet's own: what the switch would do with a frame, read from its tables
      {"host.trace_packet", R::kReadOnly},
      // hvnet's own: the audit log holds every caller's arguments
      {"pool.audit_log_get", R::kPoolAdmin},
      // hvnet's own: the pool's etcd identity, which bypasses RBAC (pool.join itself is xapi's
      // pool-operator call, as are eject and the master calls)
      {"pool.join_credentials", R::kPoolAdmin},
      {"session.login_with_password", R::kReadOnly},
      {"session.logout", R::kReadOnly},
      {"session.get_all_subject_identifiers", R::kReadOnly},
      {"session.logout_subject_identifier", R::kPoolOperator},
      {"task.create", R::kReadOnly},
      {"task.cancel", R::kReadOnly},
      {"task.destroy", R::kReadOnly},
  };
  return table;
}

// The API's own classes (not in the schema): their messages' role.
std::optional<Role> api_class_role(std::string_view cls) {
  if (cls == "session") return R::kPoolAdmin;
  if (cls == "PIF_metrics") return R::kPoolOperator;
  if (cls == "event" || cls == "auth" || cls == "system") return R::kReadOnly;
  return std::nullopt;
}

using detail::lower;

bool key_matches(const std::string& pattern, const std::string& key) {
  if (!pattern.empty() && pattern.back() == '*')
    return key.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  return pattern == key;
}

// The field a writer message names ("add_to_other_config" -> other_config) and whether it takes
// a map key.
struct Writer {
  const model::FieldSpec* field = nullptr;
  bool keyed = false;
};
Writer writer_of(const model::ClassSpec& cls, std::string_view msg) {
  for (std::string_view verb : {"set_", "add_to_", "remove_from_", "add_", "remove_"}) {
    if (msg.substr(0, verb.size()) != verb) continue;
    if (const auto* f = cls.field(msg.substr(verb.size())))
      return {f, verb == "add_to_" || verb == "remove_from_"};
  }
  return {};
}

}  // namespace

Permission permission_of(std::string_view method, const nlohmann::json& args) {
  if (method.substr(0, 6) == "Async.") method.remove_prefix(6);
  const std::string name = lower(std::string(method));
  if (auto it = message_roles().find(method); it != message_roles().end())
    return {name, it->second};
  const auto dot = method.find('.');
  const std::string_view cls = method.substr(0, dot);
  const std::string_view msg = dot == std::string_view::npos ? "" : method.substr(dot + 1);
  if (msg.substr(0, 4) == "get_") return {name, R::kReadOnly};
  if (const model::ClassSpec* spec = model::find_class(cls)) {
    if (Writer w = writer_of(*spec, msg); w.field) {
      if (w.keyed && args.is_array() && args.size() > 1 && args[1].is_string()) {
        const std::string key = args[1].get<std::string>();
        for (const auto& [pattern, role] : w.field->key_writers)
          if (key_matches(pattern, key))
            return {name + "/key:" + lower(std::string(pattern)), role};
      }
      return {name, spec->writer_of(*w.field)};
    }
    return {name, spec->writers};
  }
  return {name, api_class_role(cls).value_or(R::kPoolAdmin)};
}

std::vector<std::string> permissions_of(Role role, const std::vector<std::string>& methods) {
  std::vector<std::string> out;
  auto add = [&](const Permission& p) {
    if (model::role_holds(role, p.role)) out.push_back(p.name);
  };
  for (const auto& m : methods) {
    if (m.rfind("Async.", 0) == 0) continue;  // the same permissions as the calls they run
    add(permission_of(m, nlohmann::json()));
    const auto dot = m.find('.');
    const model::ClassSpec* spec = model::find_class(m.substr(0, dot));
    if (!spec) continue;
    if (Writer w = writer_of(*spec, std::string_view(m).substr(dot + 1)); w.field && w.keyed)
      for (const auto& [pattern, r] : w.field->key_writers)
        add(Permission{lower(m) + "/key:" + lower(std::string(pattern)), r});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string denied_message(Role needed) {
  std::string roles;
  for (const auto& r : model::all_roles())
    if (model::role_holds(r.role, needed))
      roles += (roles.empty() ? "" : ", ") + std::string(r.name);
  return "No permission in user session. (Roles with this permission: " + roles + ")";
}

namespace {

std::string md5_uuid(std::string_view name) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(name.data(), name.size(), md, &len, EVP_md5(), nullptr);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0],
                md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
                md[12], md[13], md[14], md[15]);
  return out;
}

// Computed once: every call of a subject's session looks its roles up by uuid.
const std::array<std::string, 6>& role_uuids() {
  static const std::array<std::string, 6> uuids = [] {
    std::array<std::string, 6> u;
    for (const auto& r : model::all_roles())
      u[static_cast<size_t>(r.role)] =
          r.role == R::kPoolAdmin ? "0165f154-ba3e-034e-6b27-5d271af109ba" : md5_uuid(r.name);
    return u;
  }();
  return uuids;
}

}  // namespace

std::string role_uuid(Role r) {
  return role_uuids()[static_cast<size_t>(r)];
}

std::optional<Role> role_of_uuid(std::string_view uuid) {
  for (const auto& r : model::all_roles())
    if (role_uuids()[static_cast<size_t>(r.role)] == uuid) return r.role;
  return std::nullopt;
}

}  // namespace hvnet::api::rbac
