// TxQueues: one small transmit queue per output port, filled while a batch is forwarded and
// flushed with one tx_burst per port at the end of the batch (or when a queue fills), under the
// port's tx lock. One TxQueues per forwarding thread. Storage is sized when the configuration
// changes, never per packet.
#pragma once

#include <array>
#include <mutex>
#include <vector>

#include "dataplane/dataplane_stats.h"
#include "dataplane/snapshot.h"

namespace hvnet {

class TxQueues {
 public:
  void resize(size_t ports) {
    queues_.resize(ports);
    dirty_.reserve(ports);
  }

  void push(const Snapshot& s, PortId port, const TxItem& it, DataplaneStats& st) noexcept {
    Queue& q = queues_[port];
    if (q.n == kBatchSize) flush_one(s, port, st);
    if (!q.dirty) {
      q.dirty = true;
      dirty_.push_back(port);
    }
    q.items[q.n++] = it;
  }

  void flush(const Snapshot& s, DataplaneStats& st) noexcept {
    for (PortId port : dirty_) {
      flush_one(s, port, st);
      queues_[port].dirty = false;
    }
    dirty_.clear();
  }

 private:
  struct Queue {
    std::array<TxItem, kBatchSize> items;
    uint32_t n = 0;
    bool dirty = false;
  };

  void flush_one(const Snapshot& s, PortId port, DataplaneStats& st) noexcept {
    Queue& q = queues_[port];
    if (q.n == 0) return;
    Port& out = *s.ports[port].port;
    uint64_t bytes = 0;
    uint32_t sent;
    {
      // Any forwarding thread may send on this port: one lock per batch, port counters with it.
      std::lock_guard lk(out.tx_lock());
      sent = out.tx_burst(q.items.data(), q.n);
      for (uint32_t i = 0; i < sent; ++i) bytes += q.items[i].pkt->len;
      PortStats& ps = out.stats();
      PortStats::bump(ps.tx_packets, sent);
      PortStats::bump(ps.tx_bytes, bytes);
      if (sent < q.n) PortStats::bump(ps.tx_errors, q.n - sent);
    }
    if (sent < q.n) DataplaneStats::bump(st.drops[size_t(DropReason::kTxFailed)], q.n - sent);
    q.n = 0;
  }

  std::vector<Queue> queues_;
  std::vector<PortId> dirty_;
};

}  // namespace hvnet
