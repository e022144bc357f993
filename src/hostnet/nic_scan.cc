#include "hostnet/nic_scan.h"

#include <net/if.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <utility>

#include "hostnet/link.h"
#include "hostnet/sriov.h"

namespace hvnet::hostnet {

namespace {

std::string read_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

std::vector<model::NicInfo> scan_nics(const std::string& prefix, const std::string& sysfs_root) {
  namespace fs = std::filesystem;
  std::vector<model::NicInfo> out;
  std::error_code ec;
  const SriovSysfs sriov(sysfs_root);
  for (const auto& entry : fs::directory_iterator(sysfs_root + "/class/net", ec)) {
    const std::string dev = entry.path().filename();
    if (dev == "lo" || dev.rfind(prefix, 0) != 0) continue;
    if (fs::exists(entry.path() / "bridge") || fs::exists(entry.path() / "tun_flags")) continue;
    if (read_line(entry.path() / "type") != "1") continue;  // Ethernet only
    const bool physical = fs::exists(entry.path() / "device");
    if (!physical && driver_name(dev) != "veth") continue;
    model::NicInfo nic;
    nic.device = dev;
    nic.mac = read_line(entry.path() / "address");
    nic.mtu = uint32_t(std::strtoul(read_line(entry.path() / "mtu").c_str(), nullptr, 10));
    if (nic.mtu == 0) nic.mtu = 1500;
    nic.sriov_totalvfs = sriov.total_vfs(dev);
    if (nic.sriov_totalvfs > 0) nic.capabilities.push_back("sriov");
    const std::string vendor = read_line(entry.path() / "device" / "vendor");
    const std::string device = read_line(entry.path() / "device" / "device");
    if (vendor.rfind("0x", 0) == 0 && device.rfind("0x", 0) == 0)
      nic.pci_id = vendor.substr(2) + ":" + device.substr(2);
    out.push_back(nic);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.device < b.device; });
  return out;
}

namespace {
// The names pci.ids gives a vendor and one of its devices ("" when unknown or not installed).
std::pair<std::string, std::string> pci_names(const std::string& vendor,
                                              const std::string& device) {
  std::pair<std::string, std::string> out;
  for (const char* db : {"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"}) {
    std::ifstream in(db);
    if (!in) continue;
    std::string line;
    bool in_vendor = false;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      if (line[0] != '\t') {
        if (in_vendor) break;  // past our vendor's devices
        if (line.size() > 6 && line.compare(0, 4, vendor) == 0) {
          out.first = line.substr(6);
          in_vendor = true;
        }
      } else if (in_vendor && line.size() > 7 && line[1] != '\t' &&
                 line.compare(1, 4, device) == 0) {
        out.second = line.substr(7);
        break;
      }
    }
    return out;
  }
  return out;
}
}  // namespace

NicFacts nic_facts(const std::string& dev) {
  namespace fs = std::filesystem;
  NicFacts f;
  const fs::path sys = fs::path("/sys/class/net") / dev;
  f.carrier = read_line(sys / "carrier") == "1";
  try {
    const long long speed = std::stoll(read_line(sys / "speed"));
    f.speed = speed > 0 ? speed : 0;
  } catch (const std::exception&) {
  }
  f.duplex = read_line(sys / "duplex") == "full";
  std::error_code ec;
  const fs::path device = fs::read_symlink(sys / "device", ec);
  if (!ec && read_line(sys / "device" / "vendor").rfind("0x", 0) == 0) {
    f.pci_bus_path = device.filename().string();
    f.vendor_id = read_line(sys / "device" / "vendor").substr(2);
    f.device_id = read_line(sys / "device" / "device").substr(2);
    std::tie(f.vendor_name, f.device_name) = pci_names(f.vendor_id, f.device_id);
  }
  return f;
}

}  // namespace hvnet::hostnet
