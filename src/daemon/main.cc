// hvnetd: the per-host daemon. Wiring only. Two modes:
//  - network manager (default): objects in SQLite, XenAPI over HTTP (TCP + Unix socket), the data
//    plane reconciled from the stored objects;
//  - static (--config FILE): the data plane alone from a topology file; SIGHUP re-reads it.
// SIGINT/SIGTERM stop cleanly.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "api/api.h"
#include "api/http_server.h"
#include "control/kernel_ports.h"
#include "control/manager.h"
#include "control/switch_controller.h"
#include "daemon/ctl_server.h"
#include "dataplane/worker.h"
#include "hostnet/link_monitor.h"
#include "hostnet/nic_scan.h"
#include "store/sqlite_store.h"

namespace {

hvnet::Result<hvnet::TopologySpec> load_topology(const std::string& path) {
  std::ifstream in(path);
  if (!in) return hvnet::make_error("INVALID_VALUE", {"config", path + ": cannot be read"});
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return hvnet::make_error("INVALID_VALUE", {"config", path + ": not JSON"});
  return hvnet::parse_topology(j);
}

sigset_t block_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // threads inherit the mask; main waits below
  signal(SIGPIPE, SIG_IGN);
  return sigs;
}

std::string local_hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hvnetd - hvnet host network daemon (virtual switch + network manager)"};
  std::string config, db_path = "/var/lib/hvnet/hvnet.db";
  std::string ctl_path = "/run/hvnet/hvnetd.ctl", api_socket = "/run/hvnet/xapi.sock";
  std::string api_listen = "127.0.0.1:8090", password_file, pif_prefix, log_level = "info";
  std::string state_dir = "/run/hvnet/host", resolv_conf = "/etc/resolv.conf";
  uint32_t confirm_timeout = 30;
  hvnet::WorkerOptions wopt;
  app.add_option("-c,--config", config, "static mode: data plane from this topology file (JSON)");
  app.add_option("--db", db_path, "SQLite database of the network manager");
  app.add_option("--api-listen", api_listen, "XenAPI over HTTP on HOST:PORT ('' = off)");
  app.add_option("--api-socket", api_socket, "XenAPI over HTTP on this Unix socket");
  app.add_option("--password-file", password_file, "root's API password (TCP logins need it)");
  app.add_option("--pif-prefix", pif_prefix, "only NICs whose name starts with this become PIFs");
  app.add_option("--ctl", ctl_path, "debug control socket path");
  app.add_option("--state-dir", state_dir, "runtime files (DHCP client state)");
  app.add_option("--resolv-conf", resolv_conf,
                 "where the management DNS servers go ('' = nowhere)");
  app.add_option("--mgmt-confirm-timeout", confirm_timeout,
                 "seconds a management change has to reach its gateway (or be confirmed)")
      ->check(CLI::Range(1u, 3600u));
  app.add_option("--mac-table-size", wopt.mac_capacity, "MAC table entries")
      ->check(CLI::Range(10u, 1000000u));
  app.add_option("--pool-packets", wopt.pool_packets, "packet buffers per forwarding thread")
      ->check(CLI::Range(64u, 65536u));
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  std::map<std::string, hvnet::PollMode> modes;  // spelled as poll_mode_name() logs them
  std::vector<std::string> mode_names = {"auto"};
  for (auto m :
       {hvnet::PollMode::kAdaptive, hvnet::PollMode::kBusyPoll, hvnet::PollMode::kInterrupt}) {
    modes[hvnet::poll_mode_name(m)] = m;
    mode_names.push_back(hvnet::poll_mode_name(m));
  }
  std::string poll_mode = "auto";  // (the transform below rewrites it to the listed spelling)
  app.add_option("--poll-mode", poll_mode,
                 "forwarding thread: auto|adaptive|busy|interrupt (auto: busy on hosts with " +
                     std::to_string(hvnet::kBusyPollMinCpus) + "+ CPUs, adaptive below)")
      ->transform(CLI::IsMember(mode_names, CLI::ignore_case));
  app.add_option("--spin-us", wopt.spin_us, "adaptive mode: microseconds of polling after traffic")
      ->check(CLI::Range(0u, 100000u));
  std::map<std::string, hvnet::PifBackend> backends = {
      {"auto", hvnet::PifBackend::kAuto},
      {"af_xdp", hvnet::PifBackend::kXdp},
      {"af_xdp-native", hvnet::PifBackend::kXdpNative},
      {"af_xdp-generic", hvnet::PifBackend::kXdpGeneric},
      {"af_packet", hvnet::PifBackend::kAfPacket}};
  hvnet::PifBackend pif_backend = hvnet::PifBackend::kAuto;
  app.add_option("--pif-backend", pif_backend,
                 "PIFs: auto|af_xdp|af_xdp-native|af_xdp-generic|af_packet (auto: AF_XDP "
                 "native, then generic, then AF_PACKET; jumbo MTUs use AF_PACKET)")
      ->transform(CLI::CheckedTransformer(backends, CLI::ignore_case));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  wopt.poll_mode = poll_mode == "auto"
                       ? hvnet::default_poll_mode(std::thread::hardware_concurrency())
                       : modes.at(poll_mode);
  spdlog::info("forwarding thread: {} polling", hvnet::poll_mode_name(wopt.poll_mode));
  sigset_t sigs = block_signals();

  hvnet::SnapshotSlot slot;
  hvnet::Worker worker(slot, wopt);
  worker.start();
  hvnet::hostnet::LinkMonitor links([&worker] { worker.wake(); });
  hvnet::SwitchController ctl(slot, worker, hvnet::kernel_port_factory(links, pif_backend));

  if (!config.empty()) {  // static mode
    auto spec = load_topology(config);
    hvnet::Status st = spec ? ctl.apply(spec.value()) : hvnet::Status(spec.error());
    if (!st) {
      spdlog::error("topology not applied: {}", st.error().to_string());
      return 2;
    }
    hvnet::CtlServer server(ctl_path, ctl);
    if (auto s = server.start(); !s) {
      spdlog::error("{}", s.error().to_string());
      return 2;
    }
    spdlog::info("hvnetd (static topology {}): {} networks, {} ports", config,
                 spec->networks.size(), spec->ports.size());
    for (;;) {
      int sig = 0;
      sigwait(&sigs, &sig);
      if (sig != SIGHUP) break;
      auto next = load_topology(config);
      hvnet::Status r = next ? ctl.apply(next.value()) : hvnet::Status(next.error());
      if (r)
        spdlog::info("topology reloaded from {}", config);
      else
        spdlog::error("reload rejected, configuration unchanged: {}", r.error().to_string());
    }
    server.stop();
    worker.stop();
    return 0;
  }

  hvnet::store::SqliteStore store;
  if (auto st = store.open(db_path); !st) {
    spdlog::error("{}", st.error().to_string());
    return 2;
  }
  hvnet::HostAddressing addressing(state_dir, resolv_conf);  // outlives the manager
  hvnet::Manager mgr(store, &ctl, [pif_prefix] { return hvnet::hostnet::scan_nics(pif_prefix); });
  mgr.set_host_addressing(&addressing, confirm_timeout);
  if (auto st = mgr.start(local_hostname()); !st)
    spdlog::warn("some stored ports could not be created: {}", st.error().to_string());

  hvnet::api::Credentials creds;
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    std::getline(in, creds.password);
    if (!in && creds.password.empty()) {
      spdlog::error("cannot read password file {}", password_file);
      return 2;
    }
  }
  hvnet::api::Api api(mgr, creds);
  hvnet::api::HttpServer http(api);
  if (!api_socket.empty()) {
    if (auto st = http.listen_unix(api_socket); !st) {
      spdlog::error("{}", st.error().to_string());
      return 2;
    }
  }
  if (!api_listen.empty()) {
    auto colon = api_listen.rfind(':');
    int port = colon == std::string::npos ? -1 : std::atoi(api_listen.c_str() + colon + 1);
    if (port < 0 || port > 65535) {
      spdlog::error("--api-listen wants HOST:PORT, got {}", api_listen);
      return 2;
    }
    if (auto st = http.listen_tcp(api_listen.substr(0, colon), uint16_t(port)); !st) {
      spdlog::error("{}", st.error().to_string());
      return 2;
    }
  }
  hvnet::CtlServer debug(ctl_path, ctl, /*allow_apply=*/false);
  if (auto st = debug.start(); !st) {
    spdlog::error("{}", st.error().to_string());
    return 2;
  }
  spdlog::info("hvnetd running: db {}, API on {} and {} ({} methods)", db_path, api_socket,
               api_listen.empty() ? "no TCP" : api_listen, api.method_count());
  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
  }
  spdlog::info("hvnetd stopping");
  http.stop();
  debug.stop();
  worker.stop();
  return 0;
}
