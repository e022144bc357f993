// The SR-IOV seam: a sysfs tree the test writes (capability, enabling VFs, the VFs' devices),
// the exact rtnetlink requests for a VF's MAC, VLAN, rate and spoof check, all-or-nothing
// configuration against a recorder, and the kernel's real answer for a device without VFs (a
// veth, in a network namespace of the test's own: EOPNOTSUPP, named).
#include "hostnet/sriov.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "hostnet/nic_scan.h"

namespace hvnet::hostnet {
namespace {

namespace fs = std::filesystem;

class SriovTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("hvnet-sysfs-" + std::to_string(getpid()));
    fs::remove_all(root);
    nic("enp3s0", "52:54:00:00:03:00", 8);
    nic("enp4s0", "52:54:00:00:04:00", 0);
  }
  void TearDown() override { fs::remove_all(root); }
  void write(const fs::path& p, const std::string& v) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << v << "\n";
  }
  std::string read(const fs::path& p) {
    std::string s;
    std::getline(std::ifstream(p), s);
    return s;
  }
  // A PCI NIC; with `total` VFs when total > 0.
  void nic(const std::string& dev, const std::string& mac, int total) {
    const fs::path d = root / "class/net" / dev;
    write(d / "type", "1");
    write(d / "address", mac);
    write(d / "mtu", "1500");
    fs::create_directories(d / "device");
    if (total > 0) {
      write(d / "device/sriov_totalvfs", std::to_string(total));
      write(d / "device/sriov_numvfs", "0");
    }
  }
  // What enabling VFs makes appear: virtfn<i> -> the VF's PCI device, with its netdev.
  void vf_devices(const std::string& dev, int n) {
    const fs::path d = root / "class/net" / dev / "device";
    for (int i = 0; i < n; ++i) {
      const std::string pci = "0000:03:10." + std::to_string(i);
      fs::create_directories(root / "devices" / pci / "net" / (dev + "v" + std::to_string(i)));
      fs::create_symlink(root / "devices" / pci, d / ("virtfn" + std::to_string(i)));
    }
  }
  fs::path root;
};

TEST_F(SriovTest, CapabilityComesFromTotalVfs) {
  SriovSysfs s(root.string());
  EXPECT_EQ(s.total_vfs("enp3s0"), 8u);
  EXPECT_EQ(s.total_vfs("enp4s0"), 0u);
  EXPECT_EQ(s.total_vfs("nosuch"), 0u);
  EXPECT_EQ(s.total_vfs("../enp3s0"), 0u);
  auto nics = scan_nics("enp", root.string());
  ASSERT_EQ(nics.size(), 2u);
  EXPECT_EQ(nics[0].device, "enp3s0");
  EXPECT_EQ(nics[0].capabilities, std::vector<std::string>{"sriov"});
  EXPECT_EQ(nics[0].mac, "52:54:00:00:03:00");
  EXPECT_TRUE(nics[1].capabilities.empty());
}

TEST_F(SriovTest, EnablingWritesNumVfsWithinTotal) {
  SriovSysfs s(root.string());
  const fs::path num = root / "class/net/enp3s0/device/sriov_numvfs";
  ASSERT_TRUE(s.set_num_vfs("enp3s0", 4));
  EXPECT_EQ(read(num), "4");
  EXPECT_EQ(s.num_vfs("enp3s0"), 4u);
  ASSERT_TRUE(s.set_num_vfs("enp3s0", 6));  // through 0, as the kernel wants
  EXPECT_EQ(read(num), "6");
  auto too_many = s.set_num_vfs("enp3s0", 9);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, "NETWORK_SRIOV_ENABLE_FAILED");
  EXPECT_EQ(too_many.error().params,
            (std::vector<std::string>{"enp3s0", "9 VFs asked, 8 at most"}));
  EXPECT_EQ(read(num), "6");
  auto not_capable = s.set_num_vfs("enp4s0", 1);
  ASSERT_FALSE(not_capable);
  EXPECT_EQ(not_capable.error().params, (std::vector<std::string>{"enp4s0", "not SR-IOV capable"}));
  ASSERT_TRUE(s.set_num_vfs("enp3s0", 0));
  EXPECT_EQ(read(num), "0");
}

TEST_F(SriovTest, VfsAreListedWithTheirPciAddressAndDevice) {
  SriovSysfs s(root.string());
  ASSERT_TRUE(s.set_num_vfs("enp3s0", 2));
  vf_devices("enp3s0", 2);
  auto vfs = s.vfs("enp3s0");
  ASSERT_EQ(vfs.size(), 2u);
  EXPECT_EQ(vfs[1].index, 1u);
  EXPECT_EQ(vfs[1].pci, "0000:03:10.1");
  EXPECT_EQ(vfs[1].device, "enp3s0v1");
}

// The request's one VF attribute, after checking the envelope around it.
const nlattr* vf_attr(const std::vector<uint8_t>& req, int ifindex, uint16_t* type) {
  auto* nlh = reinterpret_cast<const nlmsghdr*>(req.data());
  EXPECT_EQ(nlh->nlmsg_len, req.size());
  EXPECT_EQ(nlh->nlmsg_type, RTM_SETLINK);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  EXPECT_EQ(ifi->ifi_index, ifindex);
  auto* list = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(ifinfomsg)));
  EXPECT_EQ(mnl_attr_get_type(list), IFLA_VFINFO_LIST);
  auto* info = static_cast<const nlattr*>(mnl_attr_get_payload(list));
  EXPECT_EQ(mnl_attr_get_type(info), IFLA_VF_INFO);
  EXPECT_EQ(list->nla_len, NLA_HDRLEN + info->nla_len);  // one VF_INFO, nothing else
  auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(info));
  EXPECT_EQ(info->nla_len, NLA_HDRLEN + NLA_ALIGN(a->nla_len));
  *type = mnl_attr_get_type(a);
  return a;
}

TEST(VfRequest, EachSettingIsOneSetLinkOfOneVf) {
  uint16_t type = 0;
  VfSetting mac{VfSetting::Kind::kMac, {0x00, 0x16, 0x3e, 0x12, 0x34, 0x56}};
  auto req = vf_request(7, 3, mac, 1);
  const nlattr* a = vf_attr(req, 7, &type);
  ASSERT_EQ(type, IFLA_VF_MAC);
  ifla_vf_mac m;
  ASSERT_EQ(mnl_attr_get_payload_len(a), sizeof m);
  std::memcpy(&m, mnl_attr_get_payload(a), sizeof m);
  EXPECT_EQ(m.vf, 3u);
  EXPECT_EQ(std::memcmp(m.mac, mac.mac.data(), 6), 0);

  VfSetting vlan{VfSetting::Kind::kVlan};
  vlan.vlan = 42;
  const auto vlan_req = vf_request(7, 3, vlan, 2);  // kept: `a` points into it
  a = vf_attr(vlan_req, 7, &type);
  ASSERT_EQ(type, IFLA_VF_VLAN);
  ifla_vf_vlan v;
  std::memcpy(&v, mnl_attr_get_payload(a), sizeof v);
  EXPECT_EQ(v.vf, 3u);
  EXPECT_EQ(v.vlan, 42u);
  EXPECT_EQ(v.qos, 0u);

  VfSetting rate{VfSetting::Kind::kRate};
  rate.max_tx_mbps = 80;
  const auto rate_req = vf_request(7, 3, rate, 3);
  a = vf_attr(rate_req, 7, &type);
  ASSERT_EQ(type, IFLA_VF_RATE);
  ifla_vf_rate r;
  std::memcpy(&r, mnl_attr_get_payload(a), sizeof r);
  EXPECT_EQ(r.max_tx_rate, 80u);
  EXPECT_EQ(r.min_tx_rate, 0u);

  VfSetting spoof{VfSetting::Kind::kSpoofCheck};
  spoof.spoof_check = false;
  const auto spoof_req = vf_request(7, 3, spoof, 4);
  a = vf_attr(spoof_req, 7, &type);
  ASSERT_EQ(type, IFLA_VF_SPOOFCHK);
  ifla_vf_spoofchk c;
  std::memcpy(&c, mnl_attr_get_payload(a), sizeof c);
  EXPECT_EQ(c.vf, 3u);
  EXPECT_EQ(c.setting, 0u);
}

std::vector<VfSetting> settings(uint8_t last_mac_byte, uint16_t vlan, uint32_t mbps, bool spoof) {
  std::vector<VfSetting> s(4);
  s[0].kind = VfSetting::Kind::kMac;
  s[0].mac = {0x00, 0x16, 0x3e, 0, 0, last_mac_byte};
  s[1].kind = VfSetting::Kind::kVlan;
  s[1].vlan = vlan;
  s[2].kind = VfSetting::Kind::kRate;
  s[2].max_tx_mbps = mbps;
  s[3].kind = VfSetting::Kind::kSpoofCheck;
  s[3].spoof_check = spoof;
  return s;
}

TEST(ConfigureVf, AllSettingsOrTheOnesChangedArePutBack) {
  const auto wanted = settings(0x01, 10, 100, true);
  const auto before = settings(0x00, 0, 0, true);
  RecordingVfSender ok;
  ASSERT_TRUE(configure_vf(ok, "enp3s0", 7, 2, wanted, before));
  ASSERT_EQ(ok.sent.size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(ok.sent[i], vf_request(7, 2, wanted[i], uint32_t(i + 1)));

  RecordingVfSender refuses;
  refuses.fail_at = 3;  // the rate
  auto st = configure_vf(refuses, "enp3s0", 7, 2, wanted, before);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "NETWORK_SRIOV_ENABLE_FAILED");
  EXPECT_EQ(st.error().params,
            (std::vector<std::string>{"enp3s0", "VF 2: rate refused: Operation not supported"}));
  ASSERT_EQ(refuses.sent.size(), 5u);  // mac, vlan, the refused rate; then vlan, mac put back
  EXPECT_EQ(refuses.sent[3], vf_request(7, 2, before[1], 0));
  EXPECT_EQ(refuses.sent[4], vf_request(7, 2, before[0], 0));
}

// The kernel itself, on a device that has no VFs: a veth in a network namespace made for this
// test (a child process, so this one's namespace never changes). Root only.
TEST(ConfigureVf, TheKernelRefusesAVethAndTheErrorIsNamed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace and a veth)";
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
  GTEST_SKIP() << "forks a multi-threaded process: not under ThreadSanitizer";
#endif
#endif
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipefd[0]);
    std::string out = "setup";
    if (unshare(CLONE_NEWNET) == 0 &&
        std::system("ip link add vfpf0 type veth peer name vfpf1 >/dev/null 2>&1") == 0) {
      NetlinkVfSender kernel;
      const int ifindex = int(if_nametoindex("vfpf0"));
      const int raw = kernel.send(vf_request(ifindex, 0, settings(1, 10, 100, true)[0], 1));
      auto st = configure_vf(kernel, "vfpf0", ifindex, 0, settings(1, 10, 100, true),
                             settings(0, 0, 0, true));
      out = std::to_string(raw) + "|" + (st ? "OK" : st.error().code + "|" + st.error().params[1]);
    }
    (void)!write(pipefd[1], out.data(), out.size());
    _exit(0);
  }
  close(pipefd[1]);
  char buf[512];
  ssize_t n = read(pipefd[0], buf, sizeof buf);
  close(pipefd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, size_t(n)),
            "-95|NETWORK_SRIOV_ENABLE_FAILED|VF 0: mac refused: Operation not supported");
}

}  // namespace
}  // namespace hvnet::hostnet
