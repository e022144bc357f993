#include "model/roles.h"

namespace hvnet::model {

const std::array<RoleInfo, 6>& all_roles() {
  static constexpr std::array<RoleInfo, 6> roles = {{
      {Role::kPoolAdmin, "pool-admin",
       "The Pool Administrator role has full access to all features and settings, including "
       "managing subjects, roles and certificates"},
      {Role::kPoolOperator, "pool-operator",
       "The Pool Operator role manages host- and pool-wide resources: physical interfaces, VLANs, "
       "bonds, tunnels and the management interface"},
      {Role::kVmPowerAdmin, "vm-power-admin",
       "The VM Power Administrator role has full access to VM management and chooses where VMs "
       "run"},
      {Role::kVmAdmin, "vm-admin",
       "The VM Administrator role manages VMs and their virtual interfaces"},
      {Role::kVmOperator, "vm-operator", "The VM Operator role can use VMs and tag objects"},
      {Role::kReadOnly, "read-only", "The Read-Only role can log in with basic read-only access"},
  }};
  return roles;
}

std::string_view role_name(Role r) {
  return all_roles()[static_cast<size_t>(r)].name;
}

std::optional<Role> role_by_name(std::string_view name) {
  for (const auto& r : all_roles())
    if (r.name == name) return r.role;
  return std::nullopt;
}

}  // namespace hvnet::model
