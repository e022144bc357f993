#include "packet/packet_pool.h"

#include <sys/mman.h>

#include <new>

namespace hvnet {

PacketPool::PacketPool(uint32_t count) : packets_(count), free_(count) {
  region_size_ = size_t(count) * kBufferSize;
  void* r = mmap(nullptr, region_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED) throw std::bad_alloc();
  region_ = static_cast<uint8_t*>(r);
  for (uint32_t i = 0; i < count; ++i) {
    packets_[i].buf = region_ + size_t(i) * kBufferSize;
    packets_[i].reset();
    free_[i] = &packets_[i];
  }
  free_count_ = count;
}

PacketPool::~PacketPool() {
  if (region_) munmap(region_, region_size_);
}

}  // namespace hvnet
