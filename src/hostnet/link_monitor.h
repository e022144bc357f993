// LinkMonitor: carrier state of interfaces from rtnetlink link events (RTNLGRP_LINK), not polling.
// watch(name) hands out a flag the forwarding thread reads lock-free; a background thread updates
// it on every RTM_NEWLINK and calls the wake callback so failover starts at once.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace hvnet::hostnet {

using CarrierFlag = std::shared_ptr<std::atomic<bool>>;

class LinkMonitor {
 public:
  explicit LinkMonitor(std::function<void()> on_change = {});
  ~LinkMonitor();
  // The live carrier flag of interface `name` (initialised from sysfs).
  CarrierFlag watch(const std::string& name);

 private:
  void run();
  std::function<void()> on_change_;
  std::mutex mu_;
  std::map<std::string, CarrierFlag> flags_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace hvnet::hostnet
