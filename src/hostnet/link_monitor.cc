#include "hostnet/link_monitor.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>

namespace hvnet::hostnet {

namespace {
constexpr unsigned kIffLowerUp = 0x10000;  // IFF_LOWER_UP (linux/if.h clashes with net/if.h)

bool sysfs_carrier(const std::string& name) {
  std::ifstream in("/sys/class/net/" + name + "/carrier");
  int v = 0;
  in >> v;
  return v == 1;
}
}  // namespace

LinkMonitor::LinkMonitor(std::function<void()> on_change) : on_change_(std::move(on_change)) {
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (nl && mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) == 0) {
    fd_ = dup(mnl_socket_get_fd(nl));
  }
  if (nl) mnl_socket_close(nl);
  if (fd_ >= 0 && pipe2(stop_pipe_, O_CLOEXEC) == 0) thread_ = std::thread([this] { run(); });
}

LinkMonitor::~LinkMonitor() {
  if (thread_.joinable()) {
    [[maybe_unused]] ssize_t n = write(stop_pipe_[1], "x", 1);
    thread_.join();
  }
  for (int fd : {fd_, stop_pipe_[0], stop_pipe_[1]})
    if (fd >= 0) close(fd);
}

CarrierFlag LinkMonitor::watch(const std::string& name) {
  std::lock_guard lk(mu_);
  auto& f = flags_[name];
  if (!f) f = std::make_shared<std::atomic<bool>>(false);
  f->store(sysfs_carrier(name));
  return f;
}

void LinkMonitor::run() {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) continue;
    bool changed = false;
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
    int len = int(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) continue;
      auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
      const char* name = nullptr;
      // (mnl_attr_for_each relies on void* conversions C++ refuses; walk the attributes by hand.)
      auto* attr = reinterpret_cast<nlattr*>(static_cast<char*>(mnl_nlmsg_get_payload(nlh)) +
                                             MNL_ALIGN(sizeof(*ifm)));
      const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
      while (mnl_attr_ok(attr, int(tail - reinterpret_cast<const char*>(attr)))) {
        if (mnl_attr_get_type(attr) == IFLA_IFNAME) name = mnl_attr_get_str(attr);
        attr = mnl_attr_next(attr);
      }
      if (!name) continue;
      bool up = nlh->nlmsg_type == RTM_NEWLINK && (ifm->ifi_flags & kIffLowerUp);
      std::lock_guard lk(mu_);
      auto it = flags_.find(name);
      if (it != flags_.end() && it->second->load() != up) {
        it->second->store(up);
        changed = true;
      }
    }
    if (changed && on_change_) on_change_();
  }
}

}  // namespace hvnet::hostnet
