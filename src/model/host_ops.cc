// Host addressing on the object model: PIF.reconfigure_ip, management interface moves, host name.
// Addresses are checked strictly (xapi only checks syntax): netmask contiguous, gateway inside the
// subnet, DNS servers valid IPv4, and every IP-configured PIF of a host on its own subnet.
#include <arpa/inet.h>

#include "model/ops.h"
#include "model/records.h"
#include "util/ipv4.h"
#include "util/split.h"

namespace hvnet::model {

namespace {

std::optional<int> mask_prefix(uint32_t mask) {
  int n = __builtin_popcount(mask);
  uint32_t expect = n ? ~uint32_t(0) << (32 - n) : 0;
  return mask == expect ? std::optional<int>(n) : std::nullopt;
}

}  // namespace

std::optional<std::pair<uint32_t, int>> pif_ipv4_subnet(const json& pif) {
  if (pif["ip_configuration_mode"] != "Static") return std::nullopt;
  auto ip = ipv4_from_text(pif["IP"].get<std::string>());
  auto mask = ipv4_from_text(pif["netmask"].get<std::string>());
  if (!ip || !mask) return std::nullopt;
  auto prefix = mask_prefix(*mask);
  if (!prefix) return std::nullopt;
  return std::pair{*ip & *mask, *prefix};
}

namespace {
// A guest VLAN tagging network's PIF carries the VMs' tags, not a host address.
Error no_host_end(const std::string& pif) {
  return Error{"INVALID_VALUE",
               {"PIF", pif + " is VLAN 4095 (guest tagging): no IP configuration"}};
}
}  // namespace

Status pif_reconfigure_ip(Txn& t, const std::string& pif, const std::string& mode_in,
                          const std::string& ip, const std::string& netmask,
                          const std::string& gateway, const std::string& dns) {
  const json rec = t.get(pif)->rec;
  auto canonical = match_enum(mode_in, {"None", "DHCP", "Static"});
  if (!canonical) return make_error("INVALID_VALUE", {"mode", mode_in});
  const std::string mode = *canonical;
  if (mode == "None" && rec["management"].get<bool>())
    return make_error("PIF_IS_MANAGEMENT_INTERFACE", {pif});
  if (mode != "None" && !rec["currently_attached"].get<bool>())
    return make_error("REQUIRED_PIF_IS_UNPLUGGED", {pif});
  if (mode != "None" && rec["VLAN"] == kTrunkVlanTag) return no_host_end(pif);
  std::string dns_out;
  for (const auto& one : split_commas(dns)) {
    if (!ipv4_from_text(one)) return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"DNS", one});
    dns_out += (dns_out.empty() ? "" : ",") + one;
  }
  json next = rec;
  next["ip_configuration_mode"] = mode;
  next["IP"] = next["netmask"] = next["gateway"] = "";
  next["DNS"] = dns_out;
  if (mode == "Static") {
    auto a = ipv4_from_text(ip);
    if (!a) return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"IP", ip});
    auto m = ipv4_from_text(netmask);
    if (!m || !mask_prefix(*m) || *m == 0)
      return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"netmask", netmask});
    if (!gateway.empty()) {
      auto g = ipv4_from_text(gateway);
      if (!g) return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"gateway", gateway});
      if ((*g & *m) != (*a & *m))  // a gateway must be reachable on the subnet
        return make_error("INVALID_IP_ADDRESS_SPECIFIED",
                          {"gateway", gateway + " is not in " + ip + "/" + netmask});
    }
    next["IP"] = ip;
    next["netmask"] = netmask;
    next["gateway"] = gateway;
    // Secondary interfaces: every IP-configured PIF of the host on its own subnet.
    auto mine = pif_ipv4_subnet(next);
    for (const auto& other : t.where("PIF", "host", rec["host"])) {
      if (other == pif) continue;
      auto theirs = pif_ipv4_subnet(t.get(other)->rec);
      if (!theirs || !mine) continue;
      const int p = std::min(mine->second, theirs->second);
      const uint32_t mask = p ? ~uint32_t(0) << (32 - p) : 0;
      if ((mine->first & mask) == (theirs->first & mask))
        return make_error("PIF_SUBNET_OVERLAPS", {ip + "/" + netmask, other});
    }
  }
  t.put(pif, Object{"PIF", next});
  return ok_status();
}

bool pif_has_ip_config(const json& r) {
  auto on = [](const json& m) { return m.is_string() && m != "None" && m != ""; };
  return on(r["ip_configuration_mode"]) || on(r["ipv6_configuration_mode"]);
}

Status pif_reconfigure_ipv6(Txn& t, const std::string& pif, const std::string& mode_in,
                            const std::string& ipv6, const std::string& gateway,
                            const std::string& dns) {
  const json rec = t.get(pif)->rec;
  auto canonical = match_enum(mode_in, {"None", "DHCP", "Static", "Autoconf"});
  if (!canonical) return make_error("INVALID_VALUE", {"mode", mode_in});
  const std::string mode = *canonical;
  if (mode == "None" && rec["management"].get<bool>() && rec["primary_address_type"] == "IPv6")
    return make_error("PIF_IS_MANAGEMENT_INTERFACE", {pif});
  if (mode != "None" && !rec["currently_attached"].get<bool>())
    return make_error("REQUIRED_PIF_IS_UNPLUGGED", {pif});
  if (mode != "None" && rec["VLAN"] == kTrunkVlanTag) return no_host_end(pif);
  auto v6 = [](const std::string& s, bool cidr) {
    auto slash = s.find('/');
    if (cidr == (slash == std::string::npos)) return false;
    in6_addr a{};
    if (inet_pton(AF_INET6, s.substr(0, slash).c_str(), &a) != 1) return false;
    if (!cidr) return true;
    const std::string p = s.substr(slash + 1);
    return !p.empty() && p.size() <= 3 && p.find_first_not_of("0123456789") == std::string::npos &&
           std::stoi(p) >= 1 && std::stoi(p) <= 128;
  };
  json next = rec;
  next["ipv6_configuration_mode"] = mode;
  next["IPv6"] = json::array();
  next["ipv6_gateway"] = "";
  if (mode == "Static") {
    if (!v6(ipv6, true)) return make_error("INVALID_CIDR_ADDRESS_SPECIFIED", {"IPv6"});
    next["IPv6"] = json::array({ipv6});
    if (!gateway.empty()) {
      if (!v6(gateway, false))
        return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"gateway", gateway});
      next["ipv6_gateway"] = gateway;
    }
  }
  for (size_t s = 0; !dns.empty() && s <= dns.size();) {
    size_t c = dns.find(',', s);
    if (!v6(dns.substr(s, c - s), false))
      return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"DNS", dns.substr(s, c - s)});
    if (c == std::string::npos) break;
    s = c + 1;
  }
  t.put(pif, Object{"PIF", next});
  return ok_status();
}

Status host_management_reconfigure(Txn& t, const std::string& pif) {
  const json rec = t.get(pif)->rec;
  if (!rec["bond_slave_of"].get<std::string>().empty())
    return make_error("CANNOT_PLUG_BOND_SLAVE", {pif});
  if (!pif_has_ip_config(rec)) return make_error("PIF_HAS_NO_NETWORK_CONFIGURATION", {pif});
  if (rec["management"].get<bool>()) return ok_status();  // already the management interface
  for (const auto& other : t.where("PIF", "host", rec["host"]))
    if (t.get(other)->rec["management"].get<bool>()) t.set_field(other, "management", false);
  t.set_field(pif, "management", true);
  return ok_status();
}

Status host_management_disable(Txn& t, const std::string& host) {
  for (const auto& pif : t.where("PIF", "host", host))
    if (t.get(pif)->rec["management"].get<bool>()) t.set_field(pif, "management", false);
  return ok_status();
}

Status pool_management_reconfigure(Txn& t, const std::string& network) {
  // Every member moves its management onto its PIF of `network`; one without any refuses all.
  std::map<std::string, std::string> pif_of;
  for (const auto& pif : t.where("PIF", "network", network))
    pif_of[t.get(pif)->rec["host"].get<std::string>()] = pif;
  for (const auto& host : t.all_of("host")) {
    auto it = pif_of.find(host);
    if (it == pif_of.end()) return make_error("PIF_NOT_PRESENT", {host, network});
    if (auto st = host_management_reconfigure(t, it->second); !st) return st;
  }
  return ok_status();
}

Status host_set_hostname(Txn& t, const std::string& host, const std::string& name) {
  if (name.empty()) return make_error("HOST_NAME_INVALID", {"hostname is empty"});
  if (name.size() > 255) return make_error("HOST_NAME_INVALID", {"hostname is longer than 255"});
  if (name.front() == '-' || name.back() == '-')
    return make_error("HOST_NAME_INVALID", {"hostname starts or ends with '-'"});
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
      return make_error("HOST_NAME_INVALID", {std::string("invalid character '") + c + "'"});
  t.set_field(host, "hostname", name);
  t.set_field(host, "name_label", name);
  return ok_status();
}

}  // namespace hvnet::model
