// One vocabulary for what a host interface is for. vSphere's VMkernel services on an interface
// (PIF.services) and RHV's roles of a network (network.roles) are the same names: a network's role
// is the service of each host's interface on it. "management" is XenAPI's PIF.management itself
// (host.management_reconfigure moves it; it is not written through these fields);
// "default-route": the host's default route leaves by that interface instead of the management
// one. At most one interface per service on a host, and one network per role in a pool.
#pragma once

#include <string_view>

namespace hvnet::model {

inline constexpr std::string_view kServiceManagement = "management";
inline constexpr std::string_view kServiceDefaultRoute = "default-route";
inline constexpr std::string_view kServices[] = {
    kServiceManagement, "migration",   "storage", "provisioning",
    "fault-tolerance",  "replication", "display", kServiceDefaultRoute};

inline bool is_service(std::string_view s) {
  for (auto k : kServices)
    if (k == s) return true;
  return false;
}

}  // namespace hvnet::model
