// SoftOffload: finishes in software what a port cannot hand to a NIC or the kernel: the partial
// checksum of a frame (virtio NEEDS_CSUM) and the segmentation of a TCP GSO super-frame into
// MSS-sized frames with their own IP/TCP headers and checksums. It reads the frame through a
// scatter list (the egress frame with its VLAN splice) and writes finished frames into buffers the
// caller owns; it never allocates and never touches the source frame.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "packet/vnet_hdr.h"

namespace hvnet::soft {

// Internet checksum pieces: a running 64-bit sum of 16-bit big-endian words, folded at the end.
uint64_t csum_partial(const uint8_t* p, uint32_t len, uint64_t sum) noexcept;
uint16_t csum_fold(uint64_t sum) noexcept;  // ones' complement of the folded sum
// Sum of the L4 pseudo-header of the IP header at `ip` (addresses, protocol, L4 length).
uint64_t pseudo_header_sum(const uint8_t* ip, bool ipv6, uint8_t proto, uint32_t l4_len) noexcept;
// Writes a TCP segment's new L4 length into the IP header at `ip` (IPv6 payload length, or IPv4
// total length with a fresh header checksum; `ip_hdr_len` is the IP header's length) and returns
// its pseudo-header sum.
uint64_t set_ip_lengths(uint8_t* ip, bool ipv6, uint32_t ip_hdr_len, uint32_t l4_len) noexcept;

// A frame (Ethernet header first, no vnet header) spread over `count` pieces.
struct FrameView {
  const iovec* iov;
  int count;
  uint32_t len;
};

// Offset of the IP header in a frame whose first `have` bytes are at `hdr`: after the Ethernet
// header and up to two VLAN tags (802.1Q or 802.1ad, as QinQ stacks them). 0 when not IP; sets
// *ipv6 otherwise. Every software offload path finds L3 through this one parse.
uint32_t l3_offset(const uint8_t* hdr, uint32_t have, bool* ipv6) noexcept;

// Copies bytes [off, off + len) of the frame into dst.
void gather(const FrameView& f, uint32_t off, uint32_t len, uint8_t* dst) noexcept;

// How one frame must leave: as-is, with its checksum completed, or cut into segments.
struct Plan {
  enum class Kind : uint8_t { kCopy, kChecksum, kSegmentTcp, kUnsupported } kind;
  uint32_t frames = 0;   // frames that will be written
  uint32_t l3_off = 0;   // for kSegmentTcp: IP header offset
  uint32_t l4_off = 0;   // TCP header offset
  uint32_t hdr_len = 0;  // all headers (L2 + IP + TCP)
  uint32_t mss = 0;      // payload bytes per segment
  bool ipv6 = false;
};

// Decides what finishing the frame takes; kUnsupported for offsets that do not fit the frame,
// GSO types other than TCP, or IPv6 extension headers in a TCP GSO frame.
Plan plan(const VnetHdr& vnet, const FrameView& f) noexcept;

// Receive side of a port without offload metadata (AF_XDP): a local sender (a veth peer) may
// hand over a TCP/UDP frame whose checksum field still holds only the pseudo-header sum, as the
// kernel leaves it for offload. Such a frame gets NEEDS_CSUM in `vnet`, so it crosses the switch
// as a partial-checksum frame and is finished by whoever can (the receiving kernel or an egress
// port's software path). Frames with a correct checksum are left alone. Returns true if marked.
bool mark_partial_checksum(const uint8_t* frame, uint32_t len, VnetHdr& vnet) noexcept;

// Length of the longest frame the plan writes.
uint32_t largest_frame(const Plan& plan, const FrameView& f) noexcept;

// Writes frame number `index` (0 <= index < plan.frames) into dst, which holds `cap` bytes.
// Returns its length, or 0 if it does not fit.
uint32_t write_frame(const Plan& plan, const VnetHdr& vnet, const FrameView& f, uint32_t index,
                     uint8_t* dst, uint32_t cap) noexcept;

}  // namespace hvnet::soft
