#include "hostnet/nic_scan.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace hvnet::hostnet {

namespace {

std::string read_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

std::string driver_of(const std::string& dev) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  return rc == 0 ? std::string(info.driver) : "";
}

}  // namespace

std::vector<model::NicInfo> scan_nics(const std::string& prefix) {
  namespace fs = std::filesystem;
  std::vector<model::NicInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/class/net", ec)) {
    const std::string dev = entry.path().filename();
    if (dev == "lo" || dev.rfind(prefix, 0) != 0) continue;
    if (fs::exists(entry.path() / "bridge") || fs::exists(entry.path() / "tun_flags")) continue;
    if (read_line(entry.path() / "type") != "1") continue;  // Ethernet only
    const bool physical = fs::exists(entry.path() / "device");
    if (!physical && driver_of(dev) != "veth") continue;
    model::NicInfo nic;
    nic.device = dev;
    nic.mac = read_line(entry.path() / "address");
    nic.mtu = uint32_t(std::stoul("0" + read_line(entry.path() / "mtu")));
    out.push_back(nic);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.device < b.device; });
  return out;
}

}  // namespace hvnet::hostnet
