// CarrierKeeper: keeps a VM's link up while no hvnetd is attached to its TAP.
//
// The kernel turns a TAP's carrier off when its last queue is closed, so a VM would see its NIC
// go down at every hvnetd restart or crash, even though the device itself persists. A multi-queue
// TAP keeps its carrier while any queue is open, attached or not. So for every VIF TAP hvnetd
// opens one extra queue, detaches it (TUNSETQUEUE IFF_DETACH_QUEUE: no frame is ever steered to
// it) and hands it over a Unix socket (SCM_RIGHTS) to hvnet-tapkeeper, a small process of its own
// session that only holds such descriptors. While hvnetd is away the kernel drops what the VM
// sends (no queue attached) but the link stays up; the next hvnetd attaches a queue and traffic
// flows again, with no link event in the VM.
//
// The keeper forgets a TAP when hvnetd releases it (VIF unplugged: the device is then removed
// by the last close) or when the device disappears (its descriptor reports an error), and exits
// when it holds nothing and no hvnetd is connected. A TAP queue opened inside a named network
// namespace keeps that namespace alive: whoever deletes such a namespace with its VIF still
// plugged (tests, the demo) stops the keeper too.
//
// Protocol (SOCK_SEQPACKET): "H<key>" + one descriptor: hold it under key (a second descriptor for
// a key already held is closed); "R<key>": close the one held under key, answered by "K" once
// closed. A key names a device across namespaces: "<netns inode>:<ifindex>".
#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace hvnet {

class CarrierKeeper {
 public:
  // Connects to the keeper on `socket_path`, starting `keeper_binary` (in a session of its own,
  // so it outlives this process) when none answers. nullptr with *error when neither works.
  static std::unique_ptr<CarrierKeeper> connect(const std::string& socket_path,
                                                const std::string& keeper_binary,
                                                std::string* error);
  ~CarrierKeeper();
  CarrierKeeper(const CarrierKeeper&) = delete;
  CarrierKeeper& operator=(const CarrierKeeper&) = delete;

  // Hands `fd` to the keeper (this process's copy stays the caller's to close).
  bool hold(int fd, const std::string& key);
  // The keeper closes its descriptor for `key`; returns once it has (or on failure).
  bool release(const std::string& key);

  // The keeper TapPort hands its spare queues to (none: TAPs are single-queue, as before).
  static void install(CarrierKeeper* keeper) noexcept;
  static CarrierKeeper* installed() noexcept;

  static constexpr size_t kMaxKey = 64;

 private:
  explicit CarrierKeeper(int fd) : fd_(fd) {}
  int fd_;
  std::mutex mu_;  // one exchange at a time
};

}  // namespace hvnet
