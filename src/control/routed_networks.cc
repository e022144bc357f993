#include "control/routed_networks.h"

#include <arpa/inet.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hostnet/link.h"
#include "model/ops.h"
#include "model/records.h"
#include "util/ipv4.h"
#include "util/spawn.h"

namespace hvnet {

namespace {

// The host's management interface: the NIC of a non-VM network, else its network's bridge.
std::string management_ifname(const model::Txn& t) {
  const std::string host = model::local_host(t);
  for (const auto& p : t.where("PIF", model::Match{{"host", host}, {"management", true}})) {
    const model::json& r = t.get(p)->rec;
    if (model::releases_nic(t, r)) return r["device"];
    if (const model::Object* n = t.get(r["network"], "network")) return n->rec["bridge"];
  }
  return "";
}

}  // namespace

RoutedConfig routed_config_from_model(const model::Txn& t) {
  RoutedConfig cfg;
  const std::string out_if = management_ifname(t);
  for (const char* mode : {"route", "nat"}) {
    for (const auto& net : t.where("network", "mode", mode)) {
      const model::json& n = t.get(net)->rec;
      const std::string ifname = n["bridge"];
      const auto sub = model::network_subnet(n);
      cfg.interfaces.push_back(RoutedInterface{
          ifname, mode, sub ? ipv4_text(sub->address) + "/" + std::to_string(sub->prefix) : ""});
      NatNetwork nat;
      for (const auto& vif : t.where("VIF", "network", net)) {
        const model::json& v = t.get(vif)->rec;
        if (!v.value("currently_attached", false) || !model::vif_runs_here(t, v)) continue;
        for (const auto& a : v.value("ipv4_allowed", model::json::array())) {
          auto c = hostnet::IpCidr::parse(a.get<std::string>());
          if (!c || c->family != AF_INET) continue;
          if (std::string(mode) == "route") {
            cfg.routes.push_back(hostnet::LinkRoute{*c, ifname});
          } else if (c->prefix == 32) {
            nat.reservations.emplace_back(v["MAC"], a.get<std::string>());
            break;  // one reserved address per MAC
          }
        }
      }
      if (std::string(mode) != "nat" || !sub) continue;
      const uint32_t m = ipv4_mask(sub->prefix), base = sub->address & m, last = base | ~m;
      nat.ifname = ifname;
      nat.subnet = ipv4_text(base) + "/" + std::to_string(sub->prefix);
      nat.gateway = ipv4_text(sub->address);
      nat.netmask = ipv4_text(m);
      nat.range_first = ipv4_text(sub->address == base + 1 ? base + 2 : base + 1);
      nat.range_last = ipv4_text(sub->address == last - 1 ? last - 2 : last - 1);
      nat.out_ifname = out_if;
      for (const auto& f : n.value("port_forwards", model::json::array()))
        nat.forwards.push_back(f);
      cfg.nats.push_back(std::move(nat));
    }
  }
  return cfg;
}

std::string nat_ruleset(const std::vector<NatNetwork>& nats) {
  // Declaring then deleting the table empties it whether or not it existed; the new one goes in
  // within the same transaction: the rules change all at once or not at all.
  std::ostringstream o;
  o << "add table ip hvnet\ndelete table ip hvnet\n";
  if (nats.empty()) return o.str();
  o << "table ip hvnet {\n"
    << "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  for (const auto& n : nats) {
    o << "    ip saddr " << n.subnet;
    if (!n.out_ifname.empty())
      o << " oifname \"" << n.out_ifname << "\"";
    else
      o << " oifname != \"" << n.ifname << "\"";
    o << " masquerade\n";
  }
  o << "  }\n  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n";
  for (const auto& n : nats)
    for (const auto& f : n.forwards) {
      // "tcp:8080=192.168.122.10:80"
      const size_t colon = f.find(':'), eq = f.find('=');
      o << "    iifname != \"" << n.ifname << "\" " << f.substr(0, colon) << " dport "
        << f.substr(colon + 1, eq - colon - 1) << " dnat to " << f.substr(eq + 1) << "\n";
    }
  o << "  }\n}\n";
  return o.str();
}

RoutedNetworks::RoutedNetworks(std::string state_dir, std::string dnsmasq)
    : state_dir_(std::move(state_dir)), dnsmasq_(std::move(dnsmasq)) {
  std::filesystem::create_directories(state_dir_);
  supervisor_ = std::thread([this] { supervise(); });
}

RoutedNetworks::~RoutedNetworks() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  supervisor_.join();
  std::lock_guard lk(mu_);
  for (auto& [ifname, pid] : dhcp_pid_) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
}

Status RoutedNetworks::apply_nft(const std::vector<NatNetwork>& nats) {
  const std::string rules = nat_ruleset(nats);
  if (have_applied_ && rules == nft_applied_) return ok_status();
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return make_error("INTERNAL_ERROR", {"nftables: no context"});
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  const int rc = nft_run_cmd_from_buffer(ctx, rules.c_str());
  const std::string err = nft_ctx_get_error_buffer(ctx) ? nft_ctx_get_error_buffer(ctx) : "";
  nft_ctx_free(ctx);
  if (rc != 0 && nats.empty()) {
    // Nothing of ours to remove where nftables cannot even run: not this host's concern.
    spdlog::debug("nftables: {}", err);
  } else if (rc != 0) {
    return make_error("INTERNAL_ERROR", {"nftables", err});
  }
  nft_applied_ = rules;
  return ok_status();
}

void RoutedNetworks::start_dhcp(const NatNetwork& n) {
  const std::string base = state_dir_ + "/dnsmasq-" + n.ifname;
  // A dnsmasq left by an hvnetd that was killed: ours (same lease file), so it goes.
  std::ifstream old(base + ".pid");
  pid_t stale = 0;
  if (old >> stale && stale > 0) {
    std::ifstream cmd("/proc/" + std::to_string(stale) + "/cmdline");
    std::string line((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
    if (line.find(base + ".leases") != std::string::npos) kill(stale, SIGTERM);
  }
  std::vector<std::string> argv = {
      dnsmasq_,
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--port=0",
      "--bind-interfaces",
      "--interface=" + n.ifname,
      "--except-interface=lo",
      "--dhcp-authoritative",
      "--dhcp-range=" + n.range_first + "," + n.range_last + "," + n.netmask + ",1h",
      "--dhcp-option=3," + n.gateway,
      "--dhcp-leasefile=" + base + ".leases",
      "--pid-file=" + base + ".pid"};
  for (const auto& [mac, ip] : n.reservations) argv.push_back("--dhcp-host=" + mac + "," + ip);
  const pid_t pid = spawn_program(argv);
  if (pid < 0) {
    spdlog::error("dnsmasq for {} not started: {}", n.ifname, strerror(-pid));
    return;
  }
  dhcp_pid_[n.ifname] = pid;
  dhcp_cfg_[n.ifname] = n;
  spdlog::info("dnsmasq for {} (pid {}): {}-{}", n.ifname, pid, n.range_first, n.range_last);
}

void RoutedNetworks::stop_dhcp(const std::string& ifname) {
  if (auto it = dhcp_pid_.find(ifname); it != dhcp_pid_.end()) {
    kill(it->second, SIGTERM);
    waitpid(it->second, nullptr, 0);
    dhcp_pid_.erase(it);
  }
  dhcp_cfg_.erase(ifname);
  std::filesystem::remove(state_dir_ + "/dnsmasq-" + ifname + ".pid");
}

void RoutedNetworks::supervise() {
  // A dnsmasq that ends by itself is started again (its leases are in its file); checked every
  // second until the destructor says stop.
  std::unique_lock lk(mu_);
  while (!stop_cv_.wait_for(lk, std::chrono::seconds(1), [this] { return stop_; })) {
    for (auto it = dhcp_pid_.begin(); it != dhcp_pid_.end();) {
      int status = 0;
      if (waitpid(it->second, &status, WNOHANG) == it->second) {
        const NatNetwork n = dhcp_cfg_[it->first];
        spdlog::warn("dnsmasq for {} ended (status {}): starting it again", it->first, status);
        it = dhcp_pid_.erase(it);
        start_dhcp(n);
      } else {
        ++it;
      }
    }
  }
}

Status RoutedNetworks::apply(const RoutedConfig& cfg) {
  std::lock_guard lk(mu_);
  if (!cfg.interfaces.empty()) hostnet::write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
  for (const auto& i : cfg.interfaces) {
    std::vector<hostnet::IpCidr> addrs;
    if (auto c = hostnet::IpCidr::parse(i.gateway); c && !i.gateway.empty()) addrs.push_back(*c);
    if (int rc = hostnet::set_addresses(i.ifname, AF_INET, addrs); rc < 0)
      return make_error("INTERNAL_ERROR", {"address on " + i.ifname, strerror(-rc)});
    const std::string conf = "/proc/sys/net/ipv4/conf/" + i.ifname + "/";
    const char* routed = i.mode == "route" ? "1" : "0";
    hostnet::write_sysctl(conf + "proxy_arp", routed);
    hostnet::write_sysctl(conf + "proxy_arp_pvlan", routed);
  }
  if (int rc = hostnet::set_link_routes(kHvnetRouteProtocol, cfg.routes); rc < 0)
    return make_error("INTERNAL_ERROR", {"routes of routed networks", strerror(-rc)});
  if (auto st = apply_nft(cfg.nats); !st) return st;
  have_applied_ = true;
  std::map<std::string, const NatNetwork*> want;
  for (const auto& n : cfg.nats) want[n.ifname] = &n;
  // What dnsmasq serves (not the NAT's forwards or way out, which are nftables').
  auto served = [](NatNetwork n) {
    n.forwards.clear();
    n.out_ifname.clear();
    return n;
  };
  std::vector<std::string> gone;
  for (const auto& [ifname, n] : dhcp_cfg_)
    if (!want.count(ifname) || !(served(*want[ifname]) == served(n))) gone.push_back(ifname);
  for (const auto& g : gone) stop_dhcp(g);
  for (const auto& [ifname, n] : want)
    if (!dhcp_pid_.count(ifname)) start_dhcp(*n);
  return ok_status();
}

}  // namespace hvnet
