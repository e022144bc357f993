// MemPort: an in-memory port for unit tests and benchmarks; no kernel, no root.
// Tests inject frames and read back what the switch sent (mutex-guarded, so a test thread may talk
// to a port a forwarding thread is using). Benchmarks use replay (rx) and sink (tx) modes, which
// never lock or allocate.
#pragma once

#include <deque>
#include <mutex>
#include <vector>

#include "io/port.h"

namespace hvnet {

struct MemFrame {
  std::vector<uint8_t> bytes;
  VnetHdr vnet{};
};

class MemPort final : public Port {
 public:
  // `ring_like`: the port behaves as an AF_XDP port does for the forwarding thread (read straight
  // from memory while spinning) and its fd is an eventfd that fires only on signal_rx(), so a
  // test sees whether a spinning thread reads such ports without epoll.
  explicit MemPort(std::string name, bool ring_like = false);
  ~MemPort() override;

  // Queues a frame to be received by the switch.
  void inject(std::vector<uint8_t> frame, VnetHdr vnet = {});
  // Makes every rx_burst return a full batch cycling through these frames (benchmarks).
  void set_replay(std::vector<std::vector<uint8_t>> frames);
  // Sink mode: transmitted frames are counted, not stored (benchmarks).
  void set_sink(bool sink) noexcept { sink_ = sink; }

  // Frames the switch sent out of this port since the last call.
  std::vector<MemFrame> take_sent();
  size_t pending_rx() const;
  // Ring-like ports: makes the fd readable until the next rx_burst.
  void signal_rx() noexcept;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return ready_fd_; }
  bool rx_polls_memory() const noexcept override { return ready_fd_ >= 0; }

 private:
  int ready_fd_ = -1;
  mutable std::mutex mu_;
  std::deque<MemFrame> rx_queue_;
  std::vector<MemFrame> sent_;
  std::vector<std::vector<uint8_t>> replay_;
  size_t replay_next_ = 0;
  bool sink_ = false;
};

}  // namespace hvnet
