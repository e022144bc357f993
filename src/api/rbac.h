// Role-based access control: the permission each API call needs and the role that holds it, as
// xapi's datamodel assigns them (tests/integration/test_rbac.py checks every hvnet method against
// tools/xapi-roles.py's extract). The rules, in the order they apply:
//   1. a message with its own role (the table in rbac.cc: network.add_purpose is pool-admin);
//   2. getters (get_*) are read-only;
//   3. a field's writers (set_f, add_to_f/remove_from_f, add_f/remove_f) need the field's writer
//      role from the schema, or, for a guarded map key (other_config:folder), the key's;
//   4. anything else needs the class's role (schema ClassSpec::writers, or the API's own classes
//      here).
// Permission names are xapi's: the call lower-cased without "Async.", a guarded key appended as
// "/key:<key>". Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/roles.h"

namespace hvnet::api::rbac {

using model::Role;

struct Permission {
  std::string name;  // "network.create", "network.add_to_other_config/key:folder"
  Role role;         // the least privileged role that holds it
};

// What calling `method` with `args` (the session left out) needs.
Permission permission_of(std::string_view method, const nlohmann::json& args);
// Every permission a role holds among these methods (and their guarded keys), sorted by name.
std::vector<std::string> permissions_of(Role role, const std::vector<std::string>& methods);
// RBAC_PERMISSION_DENIED's second parameter, as xapi words it.
std::string denied_message(Role needed);

// Roles as API objects: xapi's uuids (pool-admin's is fixed, the others are the MD5 of the name),
// so a client that hard-codes them finds the same.
std::string role_uuid(Role r);
std::optional<Role> role_of_uuid(std::string_view uuid);

}  // namespace hvnet::api::rbac
