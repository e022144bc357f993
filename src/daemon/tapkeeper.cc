// hvnet-tapkeeper: holds a detached queue of every VM TAP so the VMs keep their carrier while no
// hvnetd is attached (see io/carrier_keeper.h for why and for the protocol). One thread, one
// poll loop, no allocation beyond its table; it exits when it holds nothing and nobody is
// connected, unless --persistent (a service manager runs it). Usage: hvnet-tapkeeper
// [--persistent] SOCKET
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr size_t kMaxKey = 64;
constexpr int kFirstClientMs = 10000;  // started for a client that never came: give up

int listen_on(const char* path) {
  sockaddr_un addr{};
  if (std::strlen(path) >= sizeof(addr.sun_path)) return -1;
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // Another keeper already answering: it holds the TAPs, this one is not needed.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::close(fd);
    return -2;
  }
  ::close(fd);
  fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ::unlink(path);  // a stale socket from a keeper that was killed
  mode_t old = ::umask(077);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (rc != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Keeper {
  int listener;
  std::vector<int> clients;
  std::map<std::string, int> held;
  bool had_client = false;
  bool persistent = false;

  // One message from `c`; false when the client is gone.
  bool serve(int c) {
    char buf[1 + kMaxKey];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    iovec iov{buf, sizeof(buf)};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
    if (n <= 0) return n < 0 && (errno == EINTR || errno == EAGAIN);
    std::vector<int> fds;
    for (cmsghdr* h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
      if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
        fds.push_back(fd);
      }
    }
    const std::string key(buf + 1, size_t(n) - 1);
    if (buf[0] == 'H' && fds.size() == 1 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
        held.emplace(key, fds[0]).second) {
      fds.clear();  // kept
    } else if (buf[0] == 'R') {
      if (auto it = held.find(key); it != held.end()) {
        ::close(it->second);
        held.erase(it);
      }
      (void)::send(c, "K", 1, MSG_NOSIGNAL);
    }
    for (int fd : fds) ::close(fd);  // a duplicate, or a malformed message
    return true;
  }

  int run() {
    std::vector<pollfd> pfds;
    std::vector<std::string> keys;  // of held descriptors, in pfds order after the clients
    for (;;) {
      if (!persistent && had_client && clients.empty() && held.empty()) return 0;
      pfds.clear();
      keys.clear();
      pfds.push_back({listener, POLLIN, 0});
      const size_t nclients = clients.size();
      for (int c : clients) pfds.push_back({c, POLLIN, 0});
      for (auto& [key, fd] : held) {
        pfds.push_back({fd, 0, 0});  // only errors: a TAP whose device is gone reports POLLERR
        keys.push_back(key);
      }
      int rc = ::poll(pfds.data(), pfds.size(), had_client || persistent ? -1 : kFirstClientMs);
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0 && !had_client && !persistent && held.empty()) return 0;
      if (pfds[0].revents & POLLIN) {
        int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          clients.push_back(c);
          had_client = true;
        }
      }
      std::vector<int> gone;
      for (size_t i = 0; i < nclients; ++i) {
        const pollfd& p = pfds[i + 1];
        if (p.revents && !serve(p.fd)) gone.push_back(p.fd);
      }
      for (int c : gone) {
        ::close(c);
        std::erase(clients, c);
      }
      const size_t first_held = 1 + nclients;
      for (size_t i = 0; i < keys.size(); ++i) {
        if (!(pfds[first_held + i].revents & (POLLERR | POLLHUP | POLLNVAL))) continue;
        if (auto it = held.find(keys[i]);
            it != held.end() && it->second == pfds[first_held + i].fd) {
          ::close(it->second);
          held.erase(it);
        }
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const bool persistent = argc == 3 && std::strcmp(argv[1], "--persistent") == 0;
  if (argc != 2 && !persistent) {
    std::fprintf(stderr, "usage: %s [--persistent] SOCKET\n", argv[0]);
    return 2;
  }
  const char* path = argv[argc - 1];
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);  // its session leader may go; it stays
  int fd = listen_on(path);
  if (fd == -2) return 0;
  if (fd < 0) {
    std::fprintf(stderr, "hvnet-tapkeeper: cannot listen on %s: %s\n", path, std::strerror(errno));
    return 1;
  }
  Keeper k{fd, {}, {}};
  k.persistent = persistent;
  int rc = k.run();
  ::unlink(path);
  return rc;
}
