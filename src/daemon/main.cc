// hvnetd: the per-host daemon. Wiring only. Two modes:
//  - network manager (default): objects in SQLite, XenAPI over HTTP (TCP + Unix socket), the data
//    plane reconciled from the stored objects;
//  - static (--config FILE): the data plane alone from a topology file; SIGHUP re-reads it.
// SIGINT/SIGTERM stop cleanly.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "api/api.h"
#include "api/http_server.h"
#include "api/tls.h"
#include "control/kernel_ports.h"
#include "control/manager.h"
#include "control/network_state.h"
#include "control/pool.h"
#include "control/switch_controller.h"
#include "daemon/ctl_server.h"
#include "dataplane/datapath.h"
#include "hostnet/link_monitor.h"
#include "hostnet/nic_scan.h"
#include "io/carrier_keeper.h"
#include "io/tap_port.h"
#include "store/etcd_store.h"
#include "store/sqlite_store.h"
#include "util/bounded_json.h"

namespace {

// The directory this executable lives in (its helper programs live next to it).
std::string self_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

hvnet::Result<hvnet::TopologySpec> load_topology(const std::string& path) {
  std::ifstream in(path);
  if (!in) return hvnet::make_error("INVALID_VALUE", {"config", path + ": cannot be read"});
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > (64u << 20))
    return hvnet::make_error("INVALID_VALUE", {"config", path + ": larger than 64 MiB"});
  auto j = hvnet::parse_bounded_json(text, hvnet::JsonLimits{64, 10000000});
  if (!j) return hvnet::make_error("INVALID_VALUE", {"config", path + ": " + j.error().params[0]});
  return hvnet::parse_topology(j.value());
}

sigset_t block_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // threads inherit the mask; main waits below
  signal(SIGPIPE, SIG_IGN);
  return sigs;
}

// A secret (the password file) must be root's and readable by no one else.
hvnet::Status check_secret_file(const std::string& path, const std::string& option) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return hvnet::make_error("INVALID_VALUE", {option, path + ": cannot be read"});
  if (st.st_uid != 0)
    return hvnet::make_error("INVALID_VALUE", {option, path + ": not owned by root"});
  if (st.st_mode & 077)
    return hvnet::make_error("INVALID_VALUE",
                             {option, path + ": readable by others (chmod 600 it)"});
  return hvnet::ok_status();
}

bool is_loopback(const std::string& host) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

// Raises the soft descriptor limit to the hard one; returns the limit in force.
size_t raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = std::min<rlim_t>(rl.rlim_max, 1 << 20);
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  return rl.rlim_cur == RLIM_INFINITY ? size_t(1) << 20 : size_t(rl.rlim_cur);
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
  std::string metrics_token_file, sysfs_root = "/sys", vf_netlink = "kernel";
  std::string api_listen = "127.0.0.1:8090", password_file, pif_prefix, log_level = "info";
  std::string api_listen_tls = "127.0.0.1:8443", tls_dir;
  bool plain_http_beyond_loopback = false;
  std::string pam_service = "hvnet";
  std::string state_dir = "/run/hvnet/host", resolv_conf = "/etc/resolv.conf";
  uint32_t confirm_timeout = 30;
  uint16_t vxlan_port = hvnet::kVxlanDefaultPort;
  std::string etcd_endpoints, etcd_ca, etcd_cert, etcd_key;
  std::string keeper_binary = self_dir() + "/hvnet-tapkeeper", keeper_socket;
  hvnet::WorkerOptions wopt;
  hvnet::api::ServerLimits limits;
  hvnet::api::SessionPolicy sessions;
  uint32_t idle_s = 60, header_s = 10, body_s = 30, write_s = 30, session_idle_h = 24;
  app.add_option("-c,--config", config, "static mode: data plane from this topology file (JSON)");
  app.add_option("--db", db_path, "SQLite database of the network manager");
  app.add_option("--api-listen", api_listen, "XenAPI over HTTP on HOST:PORT ('' = off)");
  app.add_option("--api-listen-tls", api_listen_tls, "XenAPI over HTTPS on HOST:PORT ('' = off)");
  app.add_option("--tls-dir", tls_dir,
                 "where the API's TLS key and certificate live (default: the --db directory)");
  app.add_flag(
      "--api-plain-http-beyond-loopback", plain_http_beyond_loopback,
      "allow --api-listen on a non-loopback address: passwords cross the network in clear");
  app.add_option("--api-socket", api_socket, "XenAPI over HTTP on this Unix socket");
  app.add_option("--sysfs-root", sysfs_root,
                 "where sysfs is: the NICs PIF.scan finds and their SR-IOV functions");
  app.add_option("--vf-netlink", vf_netlink,
                 "where VF settings go: 'kernel' (rtnetlink), or 'record:FILE' (each request "
                 "appended to FILE as hex, for hosts without SR-IOV hardware)");
  app.add_option(
      "--metrics-token-file", metrics_token_file,
      "GET /metrics from beyond loopback with 'Authorization: Bearer <this file's line>'");
  app.add_option("--password-file", password_file,
                 "an API password for root besides root's system password");
  app.add_option("--pam-service", pam_service,
                 "PAM service for logins with system passwords ('' = off: root's API password "
                 "alone, no subjects)");
  app.add_option("--pif-prefix", pif_prefix, "only NICs whose name starts with this become PIFs");
  app.add_option("--ctl", ctl_path, "debug control socket path");
  app.add_option("--etcd-endpoints", etcd_endpoints,
                 "found a pool on this etcd (https://HOST:PORT,...; it must hold no pool yet): "
                 "this host's objects move there and it becomes the master; other hosts join "
                 "with xe pool-join. Ignored once the host is in a pool (pool.json)");
  app.add_option("--etcd-ca", etcd_ca, "the CA etcd's certificates are signed by");
  app.add_option("--etcd-cert", etcd_cert, "hvnetd's etcd client certificate");
  app.add_option("--etcd-key", etcd_key, "its key");
  app.add_option("--state-dir", state_dir, "runtime files (DHCP client state)");
  app.add_option("--tap-keeper", keeper_binary,
                 "program holding VM TAP queues so VMs keep carrier across restarts ('' = off)");
  app.add_option("--tap-keeper-socket", keeper_socket,
                 "its socket (default: tapkeeper.sock next to the --ctl socket)");
  app.add_option("--resolv-conf", resolv_conf,
                 "where the management DNS servers go ('' = nowhere)");
  app.add_option("--mgmt-confirm-timeout", confirm_timeout,
                 "seconds a management change has to reach its gateway (or be confirmed)")
      ->check(CLI::Range(1u, 3600u));
  app.add_option("--vxlan-port", vxlan_port,
                 "UDP port of the pool's VXLAN tunnels (every member must use the same)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--mac-table-size", wopt.mac_capacity,
                 "MAC table entries, shared by the forwarding threads (48 bytes each)")
      ->check(CLI::Range(10u, 1000000u));
  app.add_option("--pool-packets", wopt.pool_packets, "packet buffers per forwarding thread")
      ->check(CLI::Range(64u, 65536u));
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  // API limits (see api/http_server.h): what a client, or a crowd of them, can hold.
  app.add_option("--api-max-connections", limits.max_connections,
                 "TCP API connections in all (lowered to fit the descriptor limit)")
      ->check(CLI::Range(size_t(1), size_t(1) << 20));
  app.add_option("--api-max-per-address", limits.max_per_address,
                 "TCP API connections from one client address")
      ->check(CLI::Range(size_t(1), size_t(1) << 20));
  app.add_option("--api-max-local-connections", limits.max_local_connections,
                 "Unix-socket API connections")
      ->check(CLI::Range(size_t(1), size_t(1) << 20));
  app.add_option("--api-max-body", limits.max_body_bytes, "bytes of one API request body")
      ->check(CLI::Range(size_t(1024), size_t(256) << 20));
  app.add_option("--api-max-buffered", limits.max_buffered_bytes,
                 "bytes of request bodies all API connections may hold at once")
      ->check(CLI::Range(size_t(1) << 20, size_t(16) << 30));
  app.add_option("--api-max-depth", limits.decode.max_depth,
                 "nesting of arrays/structs in one request")
      ->check(CLI::Range(4, 1024));
  app.add_option("--api-max-values", limits.decode.max_values, "values in one request")
      ->check(CLI::Range(size_t(16), size_t(100000000)));
  app.add_option("--api-idle-timeout", idle_s, "seconds an API connection may wait for a request")
      ->check(CLI::Range(1u, 86400u));
  app.add_option("--api-header-timeout", header_s, "seconds a request's header may take")
      ->check(CLI::Range(1u, 3600u));
  app.add_option("--api-body-timeout", body_s, "seconds a request's body may take")
      ->check(CLI::Range(1u, 3600u));
  app.add_option("--api-write-timeout", write_s, "seconds a client may take to read a reply")
      ->check(CLI::Range(1u, 3600u));
  app.add_option("--api-io-threads", limits.io_threads, "threads serving API connections")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--api-handler-threads", limits.handler_threads, "threads running API calls")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--api-allow-origin", limits.allowed_origins,
                 "an origin (scheme://host[:port]) whose web pages may call the API; repeatable "
                 "(default: the API's own origin only)");
  app.add_option("--session-idle-timeout", session_idle_h, "hours until an unused session expires")
      ->check(CLI::Range(1u, 24u * 365));
  app.add_option("--max-sessions-per-user", sessions.max_per_user,
                 "sessions one user may hold (the least recently used goes)")
      ->check(CLI::Range(size_t(1), size_t(1000000)));
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
  std::map<std::string, hvnet::PifBackend> backends;
  std::vector<std::string> backend_names;
  for (hvnet::PifBackend b : hvnet::kPifBackends) {
    backends[hvnet::pif_backend_name(b)] = b;
    backend_names.push_back(hvnet::pif_backend_name(b));
  }
  std::string pif_backend_arg = "auto";  // (the transform below rewrites it to the listed spelling)
  app.add_option("--pif-backend", pif_backend_arg,
                 "PIFs: auto|af_xdp|af_xdp-native|af_xdp-generic|af_packet (auto: per device, "
                 "AF_XDP where its driver gives zero-copy, AF_PACKET otherwise; jumbo MTUs use "
                 "AF_PACKET)")
      ->transform(CLI::IsMember(backend_names, CLI::ignore_case));
  const unsigned cpus = std::thread::hardware_concurrency();
  uint32_t threads = hvnet::default_thread_count(cpus);
  app.add_option("--threads", threads,
                 "forwarding threads (default: one per 4 CPUs, 1 to " +
                     std::to_string(hvnet::kMaxDefaultThreads) + ")")
      ->check(CLI::Range(1u, 64u));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  const hvnet::PifBackend pif_backend = backends.at(pif_backend_arg);
  wopt.poll_mode = poll_mode == "auto" ? hvnet::default_poll_mode(cpus) : modes.at(poll_mode);
  spdlog::info("{} forwarding thread(s): {} polling", threads,
               hvnet::poll_mode_name(wopt.poll_mode));
  sigset_t sigs = block_signals();

  hvnet::SnapshotSlot slot;
  hvnet::Datapath dp(slot, hvnet::DatapathOptions{threads, wopt});
  dp.start();
  std::atomic<hvnet::HostNetworkState*> network_state{nullptr};  // poked on carrier changes
  hvnet::hostnet::LinkMonitor links([&dp, &network_state] {
    dp.wake();
    if (auto* s = network_state.load()) s->poke();
  });
  hvnet::SwitchController ctl(slot, dp, hvnet::kernel_port_factory(links, pif_backend));

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
    dp.stop();
    return 0;
  }

  hvnet::store::SqliteStore store;
  if (auto st = store.open(db_path); !st) {
    spdlog::error("{}", st.error().to_string());
    return 2;
  }
  std::unique_ptr<hvnet::CarrierKeeper> keeper;
  if (!keeper_binary.empty()) {
    if (keeper_socket.empty())
      keeper_socket = (std::filesystem::path(ctl_path).parent_path() / "tapkeeper.sock").string();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(keeper_socket).parent_path(), ec);
    std::string err;
    keeper = hvnet::CarrierKeeper::connect(keeper_socket, keeper_binary, &err);
    if (keeper)
      hvnet::CarrierKeeper::install(keeper.get());
    else
      spdlog::warn("no carrier keeper ({}): VMs see their link drop while hvnetd restarts", err);
  }
  // A pool member keeps its objects in the pool's etcd (pool.json says which), a standalone
  // host in SQLite.
  const std::string db_dir = std::filesystem::path(db_path).parent_path().string();
  auto pool_cfg = hvnet::read_pool_config(db_dir + "/pool.json");
  if (!pool_cfg) {
    spdlog::error("{}", pool_cfg.error().to_string());
    return 2;
  }
  if (!pool_cfg.value() && !etcd_endpoints.empty()) {
    hvnet::PoolConfig draft;
    draft.endpoints = etcd_endpoints;
    draft.ca_file = etcd_ca;
    draft.cert_file = etcd_cert;
    draft.key_file = etcd_key;
    {  // the host record and NICs first, as on any first start
      hvnet::Manager first(store, nullptr, [pif_prefix, sysfs_root] {
        return hvnet::hostnet::scan_nics(pif_prefix, sysfs_root);
      });
      if (auto st = first.start(local_hostname()); !st) {
        spdlog::error("{}", st.error().to_string());
        return 2;
      }
    }
    auto founded = hvnet::PoolMember::found(store, draft, db_dir);
    if (!founded) {
      spdlog::error("pool not founded: {}", founded.error().to_string());
      return 2;
    }
    pool_cfg = std::optional<hvnet::PoolConfig>(founded.value());
  }
  std::unique_ptr<hvnet::store::Store> pool_store;
  if (pool_cfg.value()) {
    auto eps = hvnet::pool_endpoints(*pool_cfg.value());
    if (!eps) {
      spdlog::error("{}", eps.error().to_string());
      return 2;
    }
    pool_store = std::make_unique<hvnet::store::EtcdStore>(eps.value(), pool_cfg.value()->prefix);
  }
  hvnet::HostAddressing addressing(state_dir, resolv_conf);  // outlives the manager
  hvnet::RoutedNetworks routed(state_dir + "/networks");     // so do route and nat networks
  std::unique_ptr<hvnet::hostnet::VfSender> vf_sender;
  if (vf_netlink.rfind("record:", 0) == 0) {
    vf_sender = std::make_unique<hvnet::hostnet::FileVfSender>(vf_netlink.substr(7));
  } else if (vf_netlink == "kernel") {
    vf_sender = std::make_unique<hvnet::hostnet::NetlinkVfSender>();
  } else {
    spdlog::error("--vf-netlink: 'kernel' or 'record:FILE', not '{}'", vf_netlink);
    return 2;
  }
  hvnet::SriovHost sriov(  // and the SR-IOV NICs
      hvnet::hostnet::SriovSysfs(sysfs_root), std::move(vf_sender));
  hvnet::Manager mgr(
      pool_store ? *pool_store : static_cast<hvnet::store::Store&>(store), &ctl,
      [pif_prefix, sysfs_root] { return hvnet::hostnet::scan_nics(pif_prefix, sysfs_root); }, 300,
      vxlan_port);
  mgr.set_host_addressing(&addressing, confirm_timeout);
  mgr.set_routed_networks(&routed);
  mgr.set_sriov(&sriov);
  for (int attempt = 0;; ++attempt) {
    auto st = mgr.start(local_hostname(), pool_cfg.value() ? pool_cfg.value()->host : "");
    if (st) break;
    const bool unreachable = st.error().code == hvnet::store::kEtcdUnavailable;
    if (!unreachable) {
      spdlog::warn("some stored ports could not be created: {}", st.error().to_string());
      break;
    }
    // A pool member without etcd has no objects to run: wait for etcd (the data plane is up).
    if (attempt % 30 == 0) spdlog::warn("pool: waiting for etcd: {}", st.error().to_string());
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)) return 1;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  hvnet::HostNetworkState host_state(
      mgr, [&links](const std::string& device) { return links.watch(device)->load(); });
  network_state = &host_state;
  struct Unhook {  // before host_state goes, the link monitor stops poking it
    std::atomic<hvnet::HostNetworkState*>& p;
    ~Unhook() { p = nullptr; }
  } unhook{network_state};
  hvnet::PoolMember member(mgr, hvnet::PoolMember::Options{db_dir, db_path, local_hostname()});
  if (pool_cfg.value()) member.start(*pool_cfg.value());

  // A secret's first line, from a file only root may read ("" when no file is named).
  auto read_secret = [](const std::string& path, const char* option, std::string& into) -> bool {
    if (path.empty()) return true;
    if (auto st = check_secret_file(path, option); !st) {
      spdlog::error("{}", st.error().to_string());
      return false;
    }
    std::ifstream in(path);
    std::getline(in, into);
    if (!in && into.empty()) {
      spdlog::error("cannot read {}", path);
      return false;
    }
    return true;
  };
  hvnet::api::Credentials creds;
  if (!read_secret(password_file, "password-file", creds.password) ||
      !read_secret(metrics_token_file, "metrics-token-file", limits.metrics_token))
    return 2;
  sessions.idle_expiry = std::chrono::hours(session_idle_h);
  hvnet::api::Api api(mgr, creds, sessions);
  api.set_pool(&member);
  // Logins of root and of subjects with their system passwords, through PAM.
  if (!pam_service.empty())
    api.set_authenticator(std::make_shared<hvnet::api::SystemAccounts>(pam_service));
  limits.idle_timeout = std::chrono::seconds(idle_s);
  limits.header_timeout = std::chrono::seconds(header_s);
  limits.body_timeout = std::chrono::seconds(body_s);
  limits.write_timeout = std::chrono::seconds(write_s);
  limits.fit_to_fd_limit(raise_fd_limit());
  spdlog::info("API limits: {} TCP connections ({} per address), {} local, body {} bytes",
               limits.max_connections, limits.max_per_address, limits.max_local_connections,
               limits.max_body_bytes);
  hvnet::api::HttpServer http(api, limits);
  auto host_port = [](const std::string& flag,
                      const std::string& v) -> std::optional<std::pair<std::string, uint16_t>> {
    auto colon = v.rfind(':');
    int port = colon == std::string::npos ? -1 : std::atoi(v.c_str() + colon + 1);
    if (port < 0 || port > 65535) {
      spdlog::error("{} wants HOST:PORT, got {}", flag, v);
      return std::nullopt;
    }
    return std::pair{v.substr(0, colon), uint16_t(port)};
  };
  if (!api_listen.empty()) {
    auto hp = host_port("--api-listen", api_listen);
    if (!hp) return 2;
    if (!is_loopback(hp->first) && !plain_http_beyond_loopback) {
      spdlog::error(
          "--api-listen {} is beyond loopback without TLS: passwords and sessions would cross "
          "the network in clear. Use --api-listen-tls, or add --api-plain-http-beyond-loopback",
          api_listen);
      return 2;
    }
    if (auto st = http.listen_tcp(hp->first, hp->second); !st) {
      spdlog::error("{}", st.error().to_string());
      return 2;
    }
  }
  // HTTPS: a self-signed identity on first start (names and addresses of the host), or the one
  // an admin installed; host.install_server_certificate replaces it with no restart.
  const std::string dir = tls_dir.empty() ? db_dir : tls_dir;
  const hvnet::api::TlsFiles tls_files{(std::filesystem::path(dir) / "api-tls.key").string(),
                                       (std::filesystem::path(dir) / "api-tls.pem").string()};
  std::mutex tls_mu;
  api.set_audit_log(std::make_shared<hvnet::api::AuditLog>(
      (std::filesystem::path(db_dir) / "audit.log").string()));
  hvnet::api::Api::TlsHooks hooks;
  hooks.https_only = [&](bool on) { return http.set_plain_http(!on); };
  if (!api_listen_tls.empty()) {
    auto hp = host_port("--api-listen-tls", api_listen_tls);
    if (!hp) return 2;
    std::vector<std::string> names = {local_hostname(), "localhost"};
    std::vector<std::string> addrs = {"127.0.0.1", "::1"};
    if (!is_loopback(hp->first) && hp->first != "0.0.0.0" && hp->first != "::")
      addrs.push_back(hp->first);
    if (auto st = hvnet::api::ensure_self_signed(tls_files, names, addrs); !st) {
      spdlog::error("API TLS identity: {}", st.error().to_string());
      return 2;
    }
    auto ctx = hvnet::api::server_context(hvnet::api::read_file(tls_files.cert),
                                          hvnet::api::read_file(tls_files.key));
    if (!ctx) {
      spdlog::error("API TLS identity in {}: {}", dir, ctx.error().to_string());
      return 2;
    }
    http.set_tls_context(ctx.value());
    if (auto st = http.listen_tls(hp->first, hp->second); !st) {
      spdlog::error("{}", st.error().to_string());
      return 2;
    }
    hooks.install = [&](const std::string& cert, const std::string& key,
                        const std::string& chain) -> hvnet::Status {
      const std::string full = chain.empty() ? cert : cert + "\n" + chain;
      auto c = hvnet::api::server_context(full, key);
      if (!c) return c.error();
      std::lock_guard lk(tls_mu);
      if (auto st = hvnet::api::write_identity(tls_files, full, key); !st) return st;
      http.set_tls_context(c.value());
      spdlog::info("API TLS certificate installed: {}", hvnet::api::certificate_fingerprint(cert));
      return hvnet::ok_status();
    };
    hooks.certificate = [&] {
      std::lock_guard lk(tls_mu);
      return hvnet::api::read_file(tls_files.cert);
    };
  }
  api.set_tls_hooks(std::move(hooks));
  const bool https_only = mgr.read([](const hvnet::model::Txn& t) {
    const auto* h = t.get(hvnet::model::local_host(t), "host");
    return h && h->rec.value("https_only", false);
  });
  if (https_only) (void)http.set_plain_http(false);
  // The Unix socket last: once it answers, every listener is ready (tests wait on it).
  if (!api_socket.empty()) {
    if (auto st = http.listen_unix(api_socket); !st) {
      spdlog::error("{}", st.error().to_string());
      return 2;
    }
  }
  http.start();
  hvnet::CtlServer debug(ctl_path, ctl, /*allow_apply=*/false);
  if (auto st = debug.start(); !st) {
    spdlog::error("{}", st.error().to_string());
    return 2;
  }
  spdlog::info("hvnetd running: db {}, API on {}, HTTP {}, HTTPS {} ({} methods)", db_path,
               api_socket, api_listen.empty() || https_only ? "off" : api_listen,
               api_listen_tls.empty() ? "off" : api_listen_tls, api.method_count());
  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
  }
  spdlog::info("hvnetd stopping (VM TAP devices stay for the next hvnetd)");
  hvnet::TapPort::keep_devices_on_close(true);
  http.stop();
  debug.stop();
  dp.stop();
  return 0;
}
