// trafgen: a small 64-byte frame generator and counter for loading a switch (iperf3 tops out near
// 0.2 Mpps here). Sends UDP-in-IPv4 frames -- `tx` with AF_PACKET sendmmsg in batches, `tx-xdp`
// from inside the kernel (XDP live frames, several Mpps) -- or counts such frames for a fixed time:
// `rx` with recvmmsg (an application receiving them), `rx-xdp` with an XDP program on the
// interface that counts and drops them (the receiver costs next to nothing, so the count is what
// the switch delivers). Prints one JSON line.
//   trafgen tx|tx-xdp IFACE SECONDS DST_MAC   trafgen rx|rx-xdp IFACE SECONDS
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "packet/headers.h"
#include "packet/soft_offload.h"

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

// The generators' frame: 60 bytes of UDP in IPv4 to DST_MAC, kMagic first in the payload.
void build_frame(const uint8_t* dst_mac, uint8_t (&frame)[60]) {
  std::memset(frame, 0, sizeof frame);
  std::memcpy(frame, dst_mac, 6);
  const uint8_t src[6] = {0x02, 0x74, 0x67, 0x00, 0x00, 0x01};
  std::memcpy(frame + 6, src, 6);
  frame[12] = 0x08;
  uint8_t* ip = frame + 14;
  ip[0] = 0x45, ip[3] = 46, ip[8] = 64, ip[9] = 17;
  ip[12] = 198, ip[13] = 18, ip[15] = 1, ip[16] = 198, ip[17] = 18, ip[19] = 2;
  // A valid header checksum: bridges with netfilter drop bad ones.
  hvnet::store_be16(ip + 10, hvnet::soft::csum_fold(hvnet::soft::csum_partial(ip, 20, 0)));
  uint8_t* udp = ip + 20;
  udp[1] = 9, udp[3] = 9, udp[5] = 26;
  const uint32_t magic = htonl(kMagic);
  std::memcpy(udp + 8, &magic, 4);
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

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// Loads an XDP program given as instructions; on refusal prints the verifier's log. Returns the
// program's fd or a negative errno.
int load_xdp_program(const char* name, const bpf_insn* prog, size_t count) {
  static char log[65536];
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof log, .log_buf = log);
  int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", prog, count, &opts);
  if (fd < 0) std::fprintf(stderr, "trafgen: XDP program %s refused:\n%s\n", name, log);
  return fd;
}

// XDP counting sink: frames carrying kMagic at offset 42 bump a per-CPU counter and are dropped;
// anything else (ARP, ...) goes on to the stack. Written as BPF instructions so the benchmark
// needs no BPF compiler.
int xdp_sink_count(const char* iface, double secs, uint64_t* count) {
  const int ifindex = int(if_nametoindex(iface));
  if (ifindex == 0) return -ENODEV;
  int map = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "trafgen_sink", 4, 8, 1, nullptr);
  if (map < 0) return map;
  uint32_t magic_le;
  const uint32_t magic_be = htonl(kMagic);
  std::memcpy(&magic_le, &magic_be, 4);  // how the program's 32-bit load sees the bytes
  const bpf_insn prog[] = {
      insn(BPF_LDX | BPF_MEM | BPF_W, 6, 1, 0, 0),                   // r6 = ctx->data
      insn(BPF_LDX | BPF_MEM | BPF_W, 7, 1, 4, 0),                   // r7 = ctx->data_end
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 6, 0, 0),                 // r2 = r6
      insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, 46),                // r2 += 46
      insn(BPF_JMP | BPF_JGT | BPF_X, 2, 7, 15, 0),                  // short frame: pass
      insn(BPF_LDX | BPF_MEM | BPF_W, 3, 6, 42, 0),                  // r3 = payload word
      insn(BPF_JMP | BPF_JNE | BPF_K, 3, 0, 13, int32_t(magic_le)),  // not ours: pass
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0),                 // key = 0
      insn(BPF_STX | BPF_MEM | BPF_W, 10, 1, -4, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),  // r2 = &key
      insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
      insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map),  // r1 = map
      insn(0, 0, 0, 0, 0),
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3, 0),   // no slot: just drop
      insn(BPF_LDX | BPF_MEM | BPF_DW, 1, 0, 0, 0),  // ++*slot (per CPU: no race)
      insn(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, 1),
      insn(BPF_STX | BPF_MEM | BPF_DW, 0, 1, 0, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_DROP),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS),  // pass:
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  int fd = load_xdp_program("trafgen_sink", prog, sizeof prog / sizeof prog[0]);
  if (fd < 0) {
    close(map);
    return fd;
  }
  int rc = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, nullptr);
  if (rc < 0) rc = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, nullptr);
  if (rc == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    const int cpus = libbpf_num_possible_cpus();
    std::vector<uint64_t> per_cpu(size_t(cpus > 0 ? cpus : 1));
    uint32_t key = 0;
    if (bpf_map_lookup_elem(map, &key, per_cpu.data()) == 0)
      for (uint64_t v : per_cpu) *count += v;
    bpf_xdp_detach(ifindex, 0, nullptr);
  }
  close(fd);
  close(map);
  return rc;
}

// In-kernel sender: an XDP program that only answers XDP_TX, run by BPF_PROG_TEST_RUN in live-frame
// mode, transmits the frame out of IFACE (its ndo_xdp_xmit: on a veth the peer takes it as an XDP
// frame, no socket buffer is built) as fast as the kernel can, on the calling CPU. Offers several
// times what sendmmsg can here, so the switch rather than the sender sets the rate. Counts frames
// offered; a device that cannot take XDP frames drops them all (the receiver then counts 0).
int xdp_live_send(const char* iface, const uint8_t* frame, uint32_t len, double secs,
                  uint64_t* count) {
  const int ifindex = int(if_nametoindex(iface));
  if (ifindex == 0) return -ENODEV;
  const bpf_insn prog[] = {
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_TX),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  int fd = load_xdp_program("trafgen_tx", prog, sizeof prog / sizeof prog[0]);
  if (fd < 0) return fd;
  xdp_md ctx{};
  ctx.data_end = len;
  ctx.ingress_ifindex = uint32_t(ifindex);
  constexpr uint32_t kRepeat = 1 << 16;  // frames per call: ~20-50 ms here, so the end is kept
  LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = len, .ctx_in = &ctx,
              .ctx_size_in = sizeof ctx, .repeat = kRepeat, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
  using clock = std::chrono::steady_clock;
  const auto end = clock::now() + std::chrono::duration<double>(secs);
  int rc = 0;
  while (clock::now() < end) {
    if ((rc = bpf_prog_test_run_opts(fd, &run)) < 0) break;
    *count += kRepeat;
  }
  close(fd);
  return rc < 0 ? rc : 0;
}

// The one JSON line every mode prints; returns the exit status.
int report(const std::string& mode, uint64_t frames, double secs) {
  std::printf("{\"mode\":\"%s\",\"frames\":%llu,\"seconds\":%.3f,\"kpps\":%.1f}\n", mode.c_str(),
              static_cast<unsigned long long>(frames), secs, double(frames) / secs / 1000.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(
        stderr,
        "usage: trafgen tx|tx-xdp IFACE SECONDS DST_MAC | trafgen rx|rx-xdp IFACE SECONDS\n");
    return 2;
  }
  const std::string mode = argv[1];
  const double secs = std::atof(argv[3]);
  uint8_t frame[60];
  if (mode == "tx" || mode == "tx-xdp") {
    uint8_t dst[6];
    if (argc < 5 || !parse_mac(argv[4], dst)) return 2;
    build_frame(dst, frame);
  }
  if (mode == "tx-xdp") {
    uint64_t count = 0;
    if (int rc = xdp_live_send(argv[2], frame, sizeof frame, secs, &count); rc < 0) {
      std::fprintf(stderr, "trafgen: XDP live-frame send on %s: %s\n", argv[2], std::strerror(-rc));
      return 1;
    }
    return report(mode, count, secs);
  }
  if (mode == "rx-xdp") {
    uint64_t count = 0;
    if (int rc = xdp_sink_count(argv[2], secs, &count); rc < 0) {
      std::fprintf(stderr, "trafgen: XDP sink on %s: %s\n", argv[2], std::strerror(-rc));
      return 1;
    }
    return report(mode, count, secs);
  }
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
    // (no PACKET_QDISC_BYPASS: it loses frames on veth)
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
  return report(mode, count, secs);
}
