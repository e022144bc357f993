#include "hostnet/sriov.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "hostnet/netlink.h"

namespace hvnet::hostnet {

namespace fs = std::filesystem;

namespace {

std::string read_line(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

uint32_t read_count(const fs::path& p) {
  const std::string s = read_line(p);
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > 100000) return 0;
    v = v * 10 + uint32_t(c - '0');
  }
  return v;
}

}  // namespace

std::string SriovSysfs::device_dir(const std::string& nic) const {
  return root_ + "/class/net/" + nic + "/device";
}

uint32_t SriovSysfs::total_vfs(const std::string& nic) const {
  if (nic.empty() || nic.find('/') != std::string::npos || nic == "." || nic == "..") return 0;
  return read_count(device_dir(nic) + "/sriov_totalvfs");
}

uint32_t SriovSysfs::num_vfs(const std::string& nic) const {
  if (total_vfs(nic) == 0) return 0;
  return read_count(device_dir(nic) + "/sriov_numvfs");
}

Status SriovSysfs::set_num_vfs(const std::string& nic, uint32_t n) const {
  const uint32_t total = total_vfs(nic);
  if (total == 0) return make_error("NETWORK_SRIOV_ENABLE_FAILED", {nic, "not SR-IOV capable"});
  if (n > total)
    return make_error("NETWORK_SRIOV_ENABLE_FAILED", {nic, std::to_string(n) + " VFs asked, " +
                                                               std::to_string(total) + " at most"});
  const std::string path = device_dir(nic) + "/sriov_numvfs";
  auto write = [&](uint32_t v) -> Status {
    std::ofstream out(path, std::ios::trunc);
    out << v << "\n";
    out.flush();
    if (!out)
      return make_error(
          "NETWORK_SRIOV_ENABLE_FAILED",
          {nic, "writing " + std::to_string(v) + " to sriov_numvfs: " + std::strerror(errno)});
    return ok_status();
  };
  const uint32_t now = num_vfs(nic);
  if (now == n) return ok_status();
  if (now != 0 && n != 0)
    if (Status st = write(0); !st) return st;
  return write(n);
}

std::vector<VfInfo> SriovSysfs::vfs(const std::string& nic) const {
  std::vector<VfInfo> out;
  const uint32_t n = num_vfs(nic);
  for (uint32_t i = 0; i < n; ++i) {
    VfInfo vf{i, "", ""};
    const fs::path link = device_dir(nic) + "/virtfn" + std::to_string(i);
    std::error_code ec;
    const fs::path target = fs::read_symlink(link, ec);
    if (!ec) vf.pci = target.filename().string();
    for (const auto& e : fs::directory_iterator(link / "net", ec)) {
      vf.device = e.path().filename().string();
      break;
    }
    out.push_back(std::move(vf));
  }
  return out;
}

const char* vf_setting_name(VfSetting::Kind k) noexcept {
  switch (k) {
    case VfSetting::Kind::kMac:
      return "mac";
    case VfSetting::Kind::kVlan:
      return "vlan";
    case VfSetting::Kind::kRate:
      return "rate";
    case VfSetting::Kind::kSpoofCheck:
      return "spoof-check";
  }
  return "?";
}

std::vector<uint8_t> vf_request(int pf_ifindex, uint32_t vf, const VfSetting& s, uint32_t seq) {
  std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_SETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = pf_ifindex;
  nlattr* list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
  switch (s.kind) {
    case VfSetting::Kind::kMac: {
      ifla_vf_mac m{};
      m.vf = vf;
      std::memcpy(m.mac, s.mac.data(), 6);
      mnl_attr_put(nlh, IFLA_VF_MAC, sizeof m, &m);
      break;
    }
    case VfSetting::Kind::kVlan: {
      ifla_vf_vlan v{};
      v.vf = vf;
      v.vlan = s.vlan;
      v.qos = s.qos;
      mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof v, &v);
      break;
    }
    case VfSetting::Kind::kRate: {
      ifla_vf_rate r{};
      r.vf = vf;
      r.min_tx_rate = 0;
      r.max_tx_rate = s.max_tx_mbps;
      mnl_attr_put(nlh, IFLA_VF_RATE, sizeof r, &r);
      break;
    }
    case VfSetting::Kind::kSpoofCheck: {
      ifla_vf_spoofchk c{};
      c.vf = vf;
      c.setting = s.spoof_check ? 1 : 0;
      mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof c, &c);
      break;
    }
  }
  mnl_attr_nest_end(nlh, info);
  mnl_attr_nest_end(nlh, list);
  buf.resize(nlh->nlmsg_len);
  return buf;
}

int NetlinkVfSender::send(const std::vector<uint8_t>& request) {
  netlink::Socket nl = netlink::open(NETLINK_ROUTE);
  if (!nl) return -errno;
  std::vector<uint8_t> copy = request;  // transact sets the sequence number
  return netlink::transact(nl.get(), reinterpret_cast<nlmsghdr*>(copy.data()));
}

int FileVfSender::send(const std::vector<uint8_t>& request) {
  std::FILE* f = std::fopen(path_.c_str(), "a");
  if (!f) return -errno;
  for (uint8_t b : request) std::fprintf(f, "%02x", b);
  std::fputc('\n', f);
  return std::fclose(f) == 0 ? 0 : -EIO;
}

Status configure_vf(VfSender& sender, const std::string& pf, int pf_ifindex, uint32_t vf,
                    const std::vector<VfSetting>& wanted, const std::vector<VfSetting>& before) {
  for (size_t i = 0; i < wanted.size(); ++i) {
    const int err = sender.send(vf_request(pf_ifindex, vf, wanted[i], uint32_t(i + 1)));
    if (err == 0) continue;
    for (size_t j = i; j-- > 0;)  // put back what was changed, newest first
      for (const VfSetting& b : before)
        if (b.kind == wanted[j].kind) (void)sender.send(vf_request(pf_ifindex, vf, b, 0));
    return make_error("NETWORK_SRIOV_ENABLE_FAILED",
                      {pf, "VF " + std::to_string(vf) + ": " + vf_setting_name(wanted[i].kind) +
                               " refused: " + std::strerror(-err)});
  }
  return ok_status();
}

}  // namespace hvnet::hostnet
