// SoftGro: receive-side coalescing for ports whose frames arrive one MSS at a time (AF_XDP):
// consecutive in-order TCP segments of one flow within a batch become one GSO super-frame with a
// partial checksum, so the rest of the path (and the VM behind a TAP) handles one frame instead
// of dozens. It merges only what a receiver would accept as one stream (same headers, options,
// ack and window; plain ACK/PSH segments; checksums verified unless still partial), never reorders
// frames, and never allocates: merged frames go back to the pool.
#pragma once

#include <cstdint>

#include "packet/packet_batch.h"
#include "packet/packet_pool.h"

namespace hvnet::soft {

// Coalesces runs in place; returns how many frames were folded into others.
uint32_t coalesce_tcp(PacketBatch& batch, PacketPool& pool) noexcept;

}  // namespace hvnet::soft
