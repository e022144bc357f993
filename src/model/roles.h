// The API's roles, as xapi names them (datamodel_roles.ml), one spelling for the schema, the
// permission table, the subject calls and xe. Totally ordered: each role holds every permission of
// the roles below it, so a permission is named by the least privileged role that holds it.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace hvnet::model {

enum class Role : unsigned char {
  kPoolAdmin,     // everything, including subjects, roles and certificates
  kPoolOperator,  // host- and pool-wide resources: PIFs, VLANs, bonds, management
  kVmPowerAdmin,  // VMs, where they run
  kVmAdmin,       // VMs and their VIFs; networks without PIFs
  kVmOperator,    // use VMs: tags, folders, VIF addresses
  kReadOnly,      // log in and read
};

struct RoleInfo {
  Role role;
  std::string_view name;         // "pool-admin"
  std::string_view description;  // what xe role-list prints
};

// Most privileged first (xapi's order).
const std::array<RoleInfo, 6>& all_roles();
std::string_view role_name(Role r);
std::optional<Role> role_by_name(std::string_view name);
// Whether a subject with role `have` may do what needs `need`.
constexpr bool role_holds(Role have, Role need) {
  return static_cast<int>(have) <= static_cast<int>(need);
}

}  // namespace hvnet::model
