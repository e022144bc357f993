#include "control/host_addressing.h"

#include <arpa/inet.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "hostnet/address.h"
#include "hostnet/link.h"
#include "model/ops.h"

extern char** environ;

namespace hvnet {

namespace {

int run(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, a[0], nullptr, nullptr, a.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

uint32_t parse4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1 ? ntohl(a.s_addr) : 0;
}

}  // namespace

HostConfig host_config_from_model(const model::Txn& t) {
  HostConfig cfg;
  const std::string host = model::local_host(t);
  if (const model::Object* h = t.get(host, "host")) cfg.hostname = h->rec["hostname"];
  for (const auto& pif : t.where("PIF", "host", host)) {
    const auto& r = t.get(pif)->rec;
    const std::string mode = r["ip_configuration_mode"];
    if (!r["currently_attached"].get<bool>() || (mode != "Static" && mode != "DHCP")) continue;
    const model::Object* net = t.get(r["network"], "network");
    if (!net) continue;
    cfg.interfaces.push_back(HostInterface{net->rec["bridge"], mode, r["IP"], r["netmask"],
                                           r["gateway"], r["DNS"], r["management"].get<bool>()});
  }
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

void HostAddressing::stop_dhcp(const std::string& ifname) {
  const std::string pidfile = state_dir_ + "/dhclient-" + ifname + ".pid";
  std::ifstream in(pidfile);
  pid_t pid = 0;
  if (in >> pid && pid > 0) kill(pid, SIGTERM);
  std::filesystem::remove(pidfile);
  dhcp_.erase(ifname);
}

Status HostAddressing::apply(const HostConfig& cfg) {
  std::map<std::string, bool> wanted_dhcp;
  std::map<std::string, std::string> wanted_static;
  std::string route_if;
  uint32_t route_gw = 0;
  std::string dns;
  for (const auto& i : cfg.interfaces) {
    const std::string flag = state_dir_ + "/mgmt-" + i.ifname;
    if (i.management)
      std::ofstream(flag) << "1\n";
    else
      std::filesystem::remove(flag);
    if (i.management) dns = i.dns;
    if (i.mode == "Static") {
      const uint32_t mask = parse4(i.netmask);
      const hostnet::Ipv4Cidr c{parse4(i.ip), uint8_t(__builtin_popcount(mask))};
      if (dhcp_.count(i.ifname)) stop_dhcp(i.ifname);
      if (int rc = hostnet::set_ipv4_addresses(i.ifname, {c}); rc < 0)
        return make_error("INTERNAL_ERROR",
                          {"address " + i.ip + " on " + i.ifname, hostnet::errno_text(rc)});
      wanted_static[i.ifname] = i.ip;
      if (i.management && !i.gateway.empty()) {
        route_if = i.ifname;
        route_gw = parse4(i.gateway);
      }
    } else {
      wanted_dhcp[i.ifname] = true;
      if (!dhcp_.count(i.ifname)) {
        hostnet::set_ipv4_addresses(i.ifname, {});
        int rc = run({"dhclient", "-4", "-nw", "-sf", script_, "-pf",
                      state_dir_ + "/dhclient-" + i.ifname + ".pid", "-lf",
                      state_dir_ + "/dhclient-" + i.ifname + ".leases", i.ifname});
        if (rc != 0)
          return make_error("INTERNAL_ERROR", {"DHCP client on " + i.ifname, "dhclient failed"});
        dhcp_[i.ifname] = true;
      }
      if (i.management) route_if = i.ifname;  // dhclient's script sets the route
    }
  }
  // Interfaces that lost their configuration.
  for (auto it = dhcp_.begin(); it != dhcp_.end();) {
    auto next = std::next(it);
    if (!wanted_dhcp.count(it->first)) {
      stop_dhcp(it->first);
      hostnet::set_ipv4_addresses(it->first, {});
    }
    it = next;
  }
  for (const auto& [ifname, ip] : static_)
    if (!wanted_static.count(ifname) && !wanted_dhcp.count(ifname))
      hostnet::set_ipv4_addresses(ifname, {});
  static_ = wanted_static;
  // The default route belongs to the management interface alone.
  if (route_gw) {
    if (int rc = hostnet::set_default_route(route_if, route_gw); rc < 0)
      return make_error("INTERNAL_ERROR",
                        {"default route via " + route_if, hostnet::errno_text(rc)});
  } else if (!route_if_.empty() && route_if.empty()) {
    hostnet::set_default_route("", 0);
  }
  route_if_ = route_if;
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
