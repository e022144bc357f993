#include "control/host_addressing.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "hostnet/address.h"
#include "hostnet/link.h"
#include "model/ops.h"
#include "model/services.h"
#include "util/ipv4.h"
#include "util/spawn.h"

namespace hvnet {

namespace {

int run(const std::vector<std::string>& argv) {
  const pid_t pid = spawn_program(argv);
  if (pid < 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Per-interface state is keyed "ifname" (IPv4) or "ifname/6" (IPv6): the interface and family.
std::pair<std::string, int> split_key(const std::string& key) {
  const bool v6 = key.size() > 2 && key.compare(key.size() - 2, 2, "/6") == 0;
  return {v6 ? key.substr(0, key.size() - 2) : key, v6 ? AF_INET6 : AF_INET};
}

}  // namespace

HostConfig host_config_from_model(const model::Txn& t) {
  HostConfig cfg;
  const std::string host = model::local_host(t);
  if (const model::Object* h = t.get(host, "host")) cfg.hostname = h->rec["hostname"];
  for (const auto& pif : t.where("PIF", "host", host)) {
    const auto& r = t.get(pif)->rec;
    if (!r["currently_attached"].get<bool>() || !model::pif_has_ip_config(r)) continue;
    const model::Object* net = t.get(r["network"], "network");
    if (!net) continue;
    // A non-VM network's plain NIC carries the address itself; otherwise the internal port.
    HostInterface i{model::releases_nic(t, r) ? r["device"] : net->rec["bridge"],
                    r["ip_configuration_mode"],
                    r["IP"],
                    r["netmask"],
                    r["gateway"],
                    r["DNS"],
                    r["ipv6_configuration_mode"],
                    {},
                    r["ipv6_gateway"],
                    r["management"].get<bool>()};
    for (const auto& a : r["IPv6"]) i.ipv6.push_back(a);
    i.default_route = model::pif_services(t, pif).count(std::string(model::kServiceDefaultRoute));
    cfg.interfaces.push_back(std::move(i));
  }
  const bool routed = std::any_of(cfg.interfaces.begin(), cfg.interfaces.end(),
                                  [](const HostInterface& i) { return i.default_route; });
  if (!routed)
    for (auto& i : cfg.interfaces) i.default_route = i.management;
  return cfg;
}

HostAddressing::HostAddressing(std::string state_dir, std::string resolv_conf)
    : state_dir_(std::move(state_dir)), resolv_conf_(std::move(resolv_conf)) {
  std::filesystem::create_directories(state_dir_);
  // dhclient applies leases through this script: the address always, the default route only on
  // the management interface (marked by a flag file hvnetd writes).
  script_ = state_dir_ + "/dhclient-script";
  std::ofstream(script_)
      << "#!/bin/sh\n"
         "# written by hvnetd: apply a DHCP lease to an hvnet host interface\n"
         "case \"$reason\" in\n"
         "BOUND|RENEW|REBIND|REBOOT)\n"
         "  ip addr flush dev \"$interface\" scope global\n"
         "  ip addr add \"$new_ip_address/$new_subnet_mask\" dev \"$interface\"\n"
         "  if [ -f \""
      << state_dir_
      << "/mgmt-$interface\" ] && [ -n \"$new_routers\" ]; then\n"
         "    ip route replace default via \"${new_routers%% *}\" dev \"$interface\"\n"
         "  fi\n"
         "  echo \"$new_ip_address $new_subnet_mask $new_routers\" > \""
      << state_dir_
      << "/lease-$interface\" ;;\n"
         "EXPIRE|FAIL|RELEASE|STOP)\n"
         "  ip addr flush dev \"$interface\" scope global ;;\n"
         "esac\n"
         "exit 0\n";
  chmod(script_.c_str(), 0755);
}

HostAddressing::~HostAddressing() {
  for (const auto& [ifname, on] : dhcp_)
    if (on) stop_dhcp(ifname);
}

Status HostAddressing::apply_ipv6(const HostInterface& i) {
  const std::string conf = "/proc/sys/net/ipv6/conf/" + i.ifname + "/";
  const std::string key = i.ifname + "/6";
  if (i.ipv6_mode != "DHCP" && dhcp_.count(key)) stop_dhcp(key);
  if (i.ipv6_mode == "None") return ok_status();
  hostnet::write_sysctl(conf + "disable_ipv6", "0");
  // Router advertisements configure the interface only in Autoconf mode.
  hostnet::write_sysctl(conf + "accept_ra", i.ipv6_mode == "Autoconf" ? "2" : "0");
  hostnet::write_sysctl(conf + "autoconf", i.ipv6_mode == "Autoconf" ? "1" : "0");
  if (i.ipv6_mode == "Static") {
    std::vector<hostnet::IpCidr> addrs;
    for (const auto& a : i.ipv6) {
      auto c = hostnet::IpCidr::parse(a);
      if (!c || c->family != AF_INET6)
        return make_error("INVALID_CIDR_ADDRESS_SPECIFIED", {"IPv6"});
      addrs.push_back(*c);
    }
    if (int rc = hostnet::set_addresses(i.ifname, AF_INET6, addrs); rc < 0)
      return make_error("INTERNAL_ERROR", {"IPv6 address on " + i.ifname, hostnet::errno_text(rc)});
  } else if (i.ipv6_mode == "DHCP" && !dhcp_.count(key)) {
    int rc = run({"dhclient", "-6", "-nw", "-pf", state_dir_ + "/dhclient6-" + i.ifname + ".pid",
                  "-lf", state_dir_ + "/dhclient6-" + i.ifname + ".leases", i.ifname});
    if (rc != 0)
      return make_error("INTERNAL_ERROR", {"DHCPv6 client on " + i.ifname, "dhclient failed"});
    dhcp_[key] = true;
  }
  return ok_status();
}

void HostAddressing::stop_dhcp(const std::string& key) {
  const auto [ifname, family] = split_key(key);
  const std::string pidfile =
      state_dir_ + (family == AF_INET6 ? "/dhclient6-" : "/dhclient-") + ifname + ".pid";
  std::ifstream in(pidfile);
  pid_t pid = 0;
  if (in >> pid && pid > 0) kill(pid, SIGTERM);
  std::filesystem::remove(pidfile);
  dhcp_.erase(key);
}

Status HostAddressing::apply(const HostConfig& cfg) {
  std::map<std::string, bool> wanted_dhcp;
  std::map<std::string, std::string> wanted_static;
  std::string route_if;
  uint32_t route_gw = 0;
  std::string dns;
  for (const auto& i : cfg.interfaces) {
    const std::string flag = state_dir_ + "/mgmt-" + i.ifname;
    if (i.default_route)
      std::ofstream(flag) << "1\n";
    else
      std::filesystem::remove(flag);
    if (i.management) dns = i.dns;
    if (i.mode == "Static") {
      const uint32_t mask = ipv4_from_text(i.netmask).value_or(0);
      auto c = hostnet::IpCidr::parse(i.ip + "/" + std::to_string(__builtin_popcount(mask)));
      if (dhcp_.count(i.ifname)) stop_dhcp(i.ifname);
      if (!c) return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"IP", i.ip});
      if (int rc = hostnet::set_addresses(i.ifname, AF_INET, {*c}); rc < 0)
        return make_error("INTERNAL_ERROR",
                          {"address " + i.ip + " on " + i.ifname, hostnet::errno_text(rc)});
      wanted_static[i.ifname] = i.ip;
      if (i.default_route && !i.gateway.empty()) {
        route_if = i.ifname;
        route_gw = ipv4_from_text(i.gateway).value_or(0);
      }
    } else if (i.mode == "DHCP") {
      wanted_dhcp[i.ifname] = true;
      if (!dhcp_.count(i.ifname)) {
        hostnet::set_addresses(i.ifname, AF_INET, {});
        int rc = run({"dhclient", "-4", "-nw", "-sf", script_, "-pf",
                      state_dir_ + "/dhclient-" + i.ifname + ".pid", "-lf",
                      state_dir_ + "/dhclient-" + i.ifname + ".leases", i.ifname});
        if (rc != 0)
          return make_error("INTERNAL_ERROR", {"DHCP client on " + i.ifname, "dhclient failed"});
        dhcp_[i.ifname] = true;
      }
      if (i.default_route) route_if = i.ifname;  // dhclient's script sets the route
    }
    if (auto st = apply_ipv6(i); !st) return st;
    if (i.ipv6_mode == "DHCP") wanted_dhcp[i.ifname + "/6"] = true;
    if (i.ipv6_mode == "Static") wanted_static[i.ifname + "/6"] = "";
  }
  // Interfaces that lost their configuration (key "if" for IPv4, "if/6" for IPv6).
  auto forget = [](const std::string& key) {
    const auto [ifname, family] = split_key(key);
    hostnet::set_addresses(ifname, family, {});
  };
  for (auto it = dhcp_.begin(); it != dhcp_.end();) {
    auto next = std::next(it);
    if (!wanted_dhcp.count(it->first)) {
      const std::string key = it->first;
      stop_dhcp(key);
      forget(key);
    }
    it = next;
  }
  for (const auto& [key, on] : static_)
    if (!wanted_static.count(key) && !wanted_dhcp.count(key)) forget(key);
  static_.clear();
  for (const auto& [key, ip] : wanted_static) static_[key] = true;
  // The default routes belong to one interface (management unless default-route is elsewhere).
  if (route_gw) {
    auto gw = hostnet::IpCidr::parse(ipv4_text(route_gw));
    if (int rc = hostnet::set_default_route(route_if, *gw); rc < 0)
      return make_error("INTERNAL_ERROR",
                        {"default route via " + route_if, hostnet::errno_text(rc)});
  } else if (!route_if_.empty() && route_if.empty()) {
    hostnet::clear_default_route(AF_INET);
  }
  route_if_ = route_if;
  std::string route6_if;
  for (const auto& i : cfg.interfaces) {
    if (!i.default_route || i.ipv6_gateway.empty()) continue;
    route6_if = i.ifname;
    if (int rc = hostnet::set_default_route(i.ifname, *hostnet::IpCidr::parse(i.ipv6_gateway));
        rc < 0)
      return make_error("INTERNAL_ERROR",
                        {"IPv6 default route via " + i.ifname, hostnet::errno_text(rc)});
  }
  if (route6_if.empty() && !route6_if_.empty()) hostnet::clear_default_route(AF_INET6);
  route6_if_ = route6_if;
  if (!resolv_conf_.empty() && !dns.empty()) {
    std::ofstream out(resolv_conf_);
    out << "# written by hvnetd from the management interface's DNS setting\n";
    size_t s = 0;
    while (s <= dns.size()) {
      size_t c = dns.find(',', s);
      out << "nameserver " << dns.substr(s, c - s) << "\n";
      if (c == std::string::npos) break;
      s = c + 1;
    }
  }
  if (!cfg.hostname.empty()) {
    char cur[256] = {0};
    gethostname(cur, sizeof cur - 1);
    if (cfg.hostname != cur && sethostname(cfg.hostname.data(), cfg.hostname.size()) != 0)
      return make_error("HOST_NAME_INVALID", {std::string("sethostname: ") + strerror(errno)});
  }
  return ok_status();
}

}  // namespace hvnet
