#include "io/carrier_keeper.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace hvnet {

namespace {

std::atomic<CarrierKeeper*> g_keeper{nullptr};

// Runs a socket call again while a signal or io_uring task work interrupts it: with a timeout
// set on the socket the kernel reports such an interruption as EINTR, not as a restart.
template <typename Call>
ssize_t retry_interrupted(Call call) {
  ssize_t n;
  do n = call();
  while (n < 0 && errno == EINTR);
  return n;
}

int connect_to(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return -1;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{2, 0};  // a keeper that stops answering costs a VIF plug two seconds, not forever
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return fd;
}

}  // namespace

std::unique_ptr<CarrierKeeper> CarrierKeeper::connect(const std::string& socket_path,
                                                      const std::string& keeper_binary,
                                                      std::string* error) {
  if (int fd = connect_to(socket_path); fd >= 0)
    return std::unique_ptr<CarrierKeeper>(new CarrierKeeper(fd));
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own session (it outlives this process) and no signal blocked (this one blocks some).
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  const char* argv[] = {keeper_binary.c_str(), socket_path.c_str(), nullptr};
  pid_t pid = 0;
  int rc =
      posix_spawn(&pid, keeper_binary.c_str(), nullptr, &attr, const_cast<char**>(argv), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *error = "start " + keeper_binary + ": " + std::strerror(rc);
    return nullptr;
  }
  // The keeper binds its socket first thing; give it two seconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    if (int fd = connect_to(socket_path); fd >= 0)
      return std::unique_ptr<CarrierKeeper>(new CarrierKeeper(fd));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {  // (exited: it is reaped, not left a zombie)
      *error = keeper_binary + " exited with status " + std::to_string(status);
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  *error = keeper_binary + " did not open " + socket_path;
  return nullptr;
}

CarrierKeeper::~CarrierKeeper() {
  CarrierKeeper* self = this;
  g_keeper.compare_exchange_strong(self, nullptr);
  ::close(fd_);
}

bool CarrierKeeper::hold(int fd, const std::string& key) {
  if (key.size() > kMaxKey) return false;
  std::string msg = "H" + key;
  iovec iov{msg.data(), msg.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  std::lock_guard lk(mu_);
  return retry_interrupted([&] { return ::sendmsg(fd_, &mh, MSG_NOSIGNAL); }) ==
         ssize_t(msg.size());
}

bool CarrierKeeper::release(const std::string& key) {
  if (key.size() > kMaxKey) return false;
  std::string msg = "R" + key;
  std::lock_guard lk(mu_);
  if (retry_interrupted([&] { return ::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL); }) !=
      ssize_t(msg.size()))
    return false;
  char ack = 0;
  return retry_interrupted([&] { return ::recv(fd_, &ack, 1, 0); }) == 1 && ack == 'K';
}

void CarrierKeeper::install(CarrierKeeper* keeper) noexcept {
  g_keeper = keeper;
}

CarrierKeeper* CarrierKeeper::installed() noexcept {
  return g_keeper;
}

}  // namespace hvnet
