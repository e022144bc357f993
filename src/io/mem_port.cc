#include "io/mem_port.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "io/egress_frame.h"

namespace hvnet {

MemPort::MemPort(std::string name, bool ring_like) : Port(std::move(name), PortKind::kMemory) {
  if (ring_like) ready_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

MemPort::~MemPort() {
  if (ready_fd_ >= 0) ::close(ready_fd_);
}

void MemPort::inject(std::vector<uint8_t> frame, VnetHdr vnet) {
  std::lock_guard lk(mu_);
  rx_queue_.push_back(MemFrame{std::move(frame), vnet});
}

void MemPort::set_replay(std::vector<std::vector<uint8_t>> frames) {
  replay_ = std::move(frames);
  replay_next_ = 0;
}

std::vector<MemFrame> MemPort::take_sent() {
  std::lock_guard lk(mu_);
  std::vector<MemFrame> out;
  out.swap(sent_);
  return out;
}

size_t MemPort::pending_rx() const {
  std::lock_guard lk(mu_);
  return rx_queue_.size();
}

void MemPort::signal_rx() noexcept {
  const uint64_t one = 1;
  if (ready_fd_ >= 0) [[maybe_unused]]
    ssize_t r = write(ready_fd_, &one, sizeof one);
}

uint32_t MemPort::rx_burst(PacketPool& pool, PacketBatch& batch) noexcept {
  if (ready_fd_ >= 0) {
    uint64_t v;
    [[maybe_unused]] ssize_t r = read(ready_fd_, &v, sizeof v);
  }
  uint32_t room = batch.room();
  uint32_t got = 0;
  if (!replay_.empty()) {
    while (got < room) {
      Packet* p = pool.alloc_one();
      if (!p) break;
      const auto& f = replay_[replay_next_];
      replay_next_ = (replay_next_ + 1) % replay_.size();
      std::memcpy(p->data, f.data(), f.size());
      p->len = uint32_t(f.size());
      batch.push(p);
      ++got;
    }
  } else {
    std::lock_guard lk(mu_);
    while (got < room && !rx_queue_.empty()) {
      Packet* p = pool.alloc_one();
      if (!p) break;
      MemFrame& f = rx_queue_.front();
      uint32_t n = uint32_t(f.bytes.size() < kFrameCapacity ? f.bytes.size() : kFrameCapacity);
      if (n) std::memcpy(p->data, f.bytes.data(), n);  // an empty frame has no data()
      p->len = n;
      p->vnet = f.vnet;
      rx_queue_.pop_front();
      batch.push(p);
      ++got;
    }
  }
  return got;
}

uint32_t MemPort::tx_burst(const TxItem* items, uint32_t n) noexcept {
  if (sink_) return n;
  std::lock_guard lk(mu_);
  uint32_t sent = 0;
  for (uint32_t i = 0; i < n; ++i) {
    EgressFrame ef;
    if (!ef.build(items[i])) continue;
    MemFrame f;
    f.vnet = ef.vnet;
    f.bytes.reserve(ef.frame_len);
    for (int k = 1; k < ef.iov_count; ++k) {
      auto* b = static_cast<const uint8_t*>(ef.iov[k].iov_base);
      f.bytes.insert(f.bytes.end(), b, b + ef.iov[k].iov_len);
    }
    sent_.push_back(std::move(f));
    ++sent;
  }
  return sent;
}

}  // namespace hvnet
