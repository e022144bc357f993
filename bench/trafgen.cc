// trafgen: a small 64-byte frame generator and counter for loading a switch (iperf3 tops out near
// 0.2 Mpps here). Sends UDP-in-IPv4 frames with AF_PACKET sendmmsg in batches (qdisc bypassed), or
// counts such frames with recvmmsg, for a fixed time; prints one JSON line.
//   trafgen tx IFACE SECONDS DST_MAC      trafgen rx IFACE SECONDS
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kBatch = 64;
constexpr uint32_t kMagic = 0x68766e74;  // "hvnt"

bool parse_mac(const char* s, uint8_t* out) {
  unsigned v[6];
  if (std::sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    return false;
  for (int i = 0; i < 6; ++i) out[i] = uint8_t(v[i]);
  return true;
}

int open_socket(const char* iface, uint16_t proto) {
  int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));
  if (fd < 0) return -1;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(proto);
  sll.sll_ifindex = int(if_nametoindex(iface));
  if (sll.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
    return -1;
  int buf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: trafgen tx IFACE SECONDS DST_MAC | trafgen rx IFACE SECONDS\n");
    return 2;
  }
  const std::string mode = argv[1];
  const double secs = std::atof(argv[3]);
  // The sender binds to IPv4 so its frames carry the right protocol (a bridge drops ETH_P_ALL).
  int fd = open_socket(argv[2], mode == "tx" ? ETH_P_IP : ETH_P_ALL);
  if (fd < 0) {
    std::perror("trafgen: socket");
    return 1;
  }
  using clock = std::chrono::steady_clock;
  const auto end = clock::now() + std::chrono::duration<double>(secs);
  uint64_t count = 0;
  if (mode == "tx") {
    int one = 1;
    (void)one;  // (PACKET_QDISC_BYPASS loses frames on veth: keep the qdisc)
    uint8_t frame[60] = {};
    if (argc < 5 || !parse_mac(argv[4], frame)) return 2;
    const uint8_t src[6] = {0x02, 0x74, 0x67, 0x00, 0x00, 0x01};
    std::memcpy(frame + 6, src, 6);
    frame[12] = 0x08;
    uint8_t* ip = frame + 14;
    ip[0] = 0x45, ip[3] = 46, ip[8] = 64, ip[9] = 17;
    ip[12] = 198, ip[13] = 18, ip[15] = 1, ip[16] = 198, ip[17] = 18, ip[19] = 2;
    uint32_t sum = 0;  // a valid header checksum: bridges with netfilter drop bad ones
    for (int i = 0; i < 20; i += 2) sum += uint32_t(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = uint8_t(~sum >> 8), ip[11] = uint8_t(~sum);
    uint8_t* udp = ip + 20;
    udp[1] = 9, udp[3] = 9, udp[5] = 26;
    const uint32_t magic = htonl(kMagic);
    std::memcpy(udp + 8, &magic, 4);
    std::vector<iovec> iov(kBatch, iovec{frame, sizeof frame});
    std::vector<mmsghdr> msgs(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    while (clock::now() < end) {
      int n = sendmmsg(fd, msgs.data(), kBatch, 0);
      if (n > 0) count += uint64_t(n);
    }
  } else {
    std::vector<uint8_t> bufs(kBatch * 2048);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    timeval tv{0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (clock::now() < end) {
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs.data() + i * 2048, 2048};
        msgs[i].msg_hdr = msghdr{};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(fd, msgs.data(), kBatch, 0, nullptr);
      for (int i = 0; i < n; ++i) {
        const uint8_t* f = bufs.data() + i * 2048;
        uint32_t m;
        std::memcpy(&m, f + 42, 4);
        if (msgs[i].msg_len >= 46 && f[12] == 0x08 && f[13] == 0 && ntohl(m) == kMagic) ++count;
      }
    }
  }
  std::printf("{\"mode\":\"%s\",\"frames\":%llu,\"seconds\":%.3f,\"kpps\":%.1f}\n", mode.c_str(),
              static_cast<unsigned long long>(count), secs, double(count) / secs / 1000.0);
  return 0;
}
