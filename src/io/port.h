// Port: one place frames enter and leave the switch (TAP, AF_PACKET socket, in-memory queue).
// rx_burst/tx_burst move a whole batch per call and never allocate. rx_burst is called only by the
// forwarding thread that owns the port; tx_burst by any forwarding thread, holding tx_lock() (one
// lock per batch), so a port keeps what it receives with apart from what it sends with.
// Counters are atomics so other threads may read them.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "packet/packet_batch.h"
#include "packet/packet_pool.h"

namespace hvnet {

// Per-port counters: receive by the owning forwarding thread, transmit under the tx lock; any
// number of readers. On a cache line of its own (see Port).
struct alignas(64) PortStats {
  std::atomic<uint64_t> rx_packets{0}, rx_bytes{0}, rx_dropped{0};
  std::atomic<uint64_t> tx_packets{0}, tx_bytes{0}, tx_errors{0};
  // Frames the kernel dropped on their way to this port's socket or ring because it was full
  // (the forwarding thread fell behind). Counted from the kernel by collect_missed(), not by the
  // data plane, so it is the one counter written with fetch_add.
  std::atomic<uint64_t> rx_missed{0};

  static void bump(std::atomic<uint64_t>& c, uint64_t by = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

// How a frame's 802.1Q tag changes on the way out of a port.
enum class VlanOp : uint8_t { kKeep, kPush, kPop, kRetag };

// One frame to transmit. The packet stays owned by the caller and is not modified: ports build the
// outgoing header (tag pushed/popped) in their own scratch space.
struct TxItem {
  const Packet* pkt;
  VlanOp op;
  uint16_t tci;  // tag control for kPush/kRetag
};

enum class PortKind : uint8_t { kTap, kInternal, kAfPacket, kMemory, kBond, kXdp, kVxlan, kGre };
const char* port_kind_name(PortKind k) noexcept;

// Cache-line aligned, and so are its counters and tx lock: a port written by one forwarding
// thread shares no line with another port read or written by another thread.
class alignas(64) Port {
 public:
  Port(std::string name, PortKind kind) : name_(std::move(name)), kind_(kind) {}
  virtual ~Port() = default;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // Receives up to batch free slots of frames, taking buffers from pool. Returns frames received.
  virtual uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept = 0;
  // Sends n frames; returns how many the kernel (or queue) accepted. Never blocks. Caller holds
  // tx_lock().
  virtual uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept = 0;
  // Held around every tx_burst (and by ports whose receive shares state with transmit, around
  // that too).
  std::mutex& tx_lock() const noexcept { return tx_mu_; }
  // A file descriptor that becomes readable when frames wait, or -1 (always poll).
  virtual int fd() const noexcept { return -1; }
  // True when rx_burst on an idle port costs no system call (AF_XDP: a look at a shared ring).
  // A spinning forwarding thread then reads such ports directly rather than asking epoll first.
  virtual bool rx_polls_memory() const noexcept { return false; }
  // Ports with timers of their own (bonds: carrier delays, LACP) get tick() from the forwarding
  // thread on every loop iteration, before rx; `now_ms` is monotonic milliseconds.
  virtual bool needs_tick() const noexcept { return false; }
  virtual void tick(uint64_t /*now_ms*/) noexcept {}

  // Adds to stats().rx_missed what the kernel dropped for this port since the last call (it
  // keeps that count itself). Any thread may call it; one system call, not for the packet path.
  virtual void collect_missed() noexcept {}

  // How the port reaches the kernel, for operators: "tap", "af_packet", "af_xdp-native", ...
  virtual std::string backend() const { return port_kind_name(kind_); }

  // Why this backend was chosen for this device (PIFs; "" elsewhere). Set once, before the port
  // is published.
  const std::string& backend_reason() const noexcept { return backend_reason_; }
  void set_backend_reason(std::string why) { backend_reason_ = std::move(why); }

  const std::string& name() const noexcept { return name_; }
  PortKind kind() const noexcept { return kind_; }
  PortStats& stats() noexcept { return stats_; }
  const PortStats& stats() const noexcept { return stats_; }

 private:
  std::string name_;
  std::string backend_reason_;
  PortKind kind_;
  alignas(64) mutable std::mutex tx_mu_;
  PortStats stats_;
};

}  // namespace hvnet
