// hvnetd: the per-host daemon. Wiring only: parse flags, start the forwarding thread, apply the
// topology file, serve the control socket; SIGHUP re-reads the file, SIGINT/SIGTERM stop cleanly.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "control/kernel_ports.h"
#include "control/switch_controller.h"
#include "daemon/ctl_server.h"
#include "dataplane/worker.h"

namespace {

hvnet::Result<hvnet::TopologySpec> load_topology(const std::string& path) {
  if (path.empty()) return hvnet::TopologySpec{};
  std::ifstream in(path);
  if (!in) return hvnet::make_error("INVALID_VALUE", {"config", path + ": cannot be read"});
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return hvnet::make_error("INVALID_VALUE", {"config", path + ": not JSON"});
  return hvnet::parse_topology(j);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hvnetd - hvnet host network daemon (virtual switch + network manager)"};
  std::string config;
  std::string ctl_path = "/run/hvnet/hvnetd.ctl";
  std::string log_level = "info";
  hvnet::WorkerOptions wopt;
  app.add_option("-c,--config", config, "topology file (JSON: networks, ports, VLANs)");
  app.add_option("--ctl", ctl_path, "control socket path");
  app.add_option("--mac-table-size", wopt.mac_capacity, "MAC table entries")
      ->check(CLI::Range(10u, 1000000u));
  app.add_option("--pool-packets", wopt.pool_packets, "packet buffers per forwarding thread")
      ->check(CLI::Range(64u, 65536u));
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // threads inherit the mask; main waits below
  signal(SIGPIPE, SIG_IGN);

  hvnet::SnapshotSlot slot;
  hvnet::Worker worker(slot, wopt);
  worker.start();
  hvnet::SwitchController ctl(slot, worker, hvnet::kernel_port_factory());

  auto spec = load_topology(config);
  if (!spec) {
    spdlog::error("topology rejected: {}", spec.error().to_string());
    return 2;
  }
  if (auto st = ctl.apply(spec.value()); !st) {
    spdlog::error("topology not applied: {}", st.error().to_string());
    return 2;
  }
  hvnet::CtlServer server(ctl_path, ctl);
  if (auto st = server.start(); !st) {
    spdlog::error("{}", st.error().to_string());
    return 2;
  }
  spdlog::info("hvnetd running: {} networks, {} ports, control socket {}", spec->networks.size(),
               spec->ports.size(), ctl_path);

  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
    auto next = load_topology(config);
    hvnet::Status st = next ? ctl.apply(next.value()) : hvnet::Status(next.error());
    if (st)
      spdlog::info("topology reloaded from {}", config);
    else
      spdlog::error("reload rejected, configuration unchanged: {}", st.error().to_string());
  }
  spdlog::info("hvnetd stopping");
  server.stop();
  worker.stop();
  return 0;
}
