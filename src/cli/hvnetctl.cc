// hvnetctl: a debug client for hvnetd's control socket: dump the MAC table, counters and
// topology, or apply a new topology file. Exit status 0 on success, 1 with the error on stderr.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace {

int request(const std::string& path, const nlohmann::json& req, nlohmann::json& reply) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    std::cerr << "hvnetctl: cannot connect to " << path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::string line = req.dump() + "\n";
  if (write(fd, line.data(), line.size()) != ssize_t(line.size())) return 1;
  shutdown(fd, SHUT_WR);
  std::string buf;
  char chunk[65536];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) > 0) buf.append(chunk, size_t(n));
  close(fd);
  reply = nlohmann::json::parse(buf, nullptr, false);
  if (reply.is_discarded()) {
    std::cerr << "hvnetctl: malformed reply\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hvnetctl - inspect and configure a running hvnetd"};
  std::string ctl = "/run/hvnet/hvnetd.ctl";
  std::string file;
  app.add_option("--ctl", ctl, "control socket path");
  app.require_subcommand(1);
  auto* fdb = app.add_subcommand("fdb", "show the MAC table");
  auto* stats = app.add_subcommand("stats", "show port and drop counters");
  auto* topo = app.add_subcommand("topology", "show the applied topology");
  auto* drops = app.add_subcommand("drops", "show the last dropped frames and why");
  auto* apply = app.add_subcommand("apply", "apply a topology file (all or nothing)");
  apply->add_option("file", file, "topology JSON")->required();
  CLI11_PARSE(app, argc, argv);

  nlohmann::json req;
  if (fdb->parsed()) req = {{"cmd", "fdb"}};
  if (stats->parsed()) req = {{"cmd", "stats"}};
  if (topo->parsed()) req = {{"cmd", "topology"}};
  if (drops->parsed()) req = {{"cmd", "drops"}};
  if (apply->parsed()) {
    std::ifstream in(file);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!in || j.is_discarded()) {
      std::cerr << "hvnetctl: " << file << " is not a readable JSON file\n";
      return 1;
    }
    req = {{"cmd", "apply"}, {"topology", j}};
  }
  nlohmann::json reply;
  if (request(ctl, req, reply) != 0) return 1;
  if (reply.value("status", "") != "ok") {
    std::cerr << "hvnetctl: error:";
    for (const auto& e : reply["error"]) std::cerr << " " << e.get<std::string>();
    std::cerr << "\n";
    return 1;
  }
  if (fdb->parsed()) {
    std::printf("%-16s %-18s %-16s %5s %5s\n", "network", "mac", "port", "vlan", "age");
    for (const auto& e : reply["value"])
      std::printf("%-16s %-18s %-16s %5d %5d\n", e["network"].get<std::string>().c_str(),
                  e["mac"].get<std::string>().c_str(), e["port"].get<std::string>().c_str(),
                  e["vlan"].get<int>(), e["age"].get<int>());
  } else if (drops->parsed()) {
    std::printf("%-16s %-24s %-18s %-18s %-8s %5s\n", "port", "reason", "src", "dst", "type",
                "len");
    for (const auto& e : reply["value"])
      std::printf("%-16s %-24s %-18s %-18s %-8s %5d\n", e["port"].get<std::string>().c_str(),
                  e["reason"].get<std::string>().c_str(), e.value("src", "").c_str(),
                  e.value("dst", "").c_str(), e.value("ethertype", "").c_str(),
                  e["len"].get<int>());
  } else if (!apply->parsed()) {
    std::cout << reply["value"].dump(2) << "\n";
  }
  return 0;
}
