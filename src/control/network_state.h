// HostNetworkState: keeps this host's record saying whether it has every required network (RHV's
// operational / non-operational host): after each commit and each carrier change it computes the
// required networks the host lacks (model::missing_required_networks) and, when that differs
// from the record, writes host.network_state and host.missing_networks, which emits the event
// clients wait on. Its own thread does the work; the commit listener and the link monitor only
// poke it, so neither waits.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "control/manager.h"
#include "model/ops.h"

namespace hvnet {

class HostNetworkState {
 public:
  // `carrier`: a kernel device's carrier now.
  HostNetworkState(Manager& mgr, model::CarrierOf carrier);
  ~HostNetworkState();
  HostNetworkState(const HostNetworkState&) = delete;
  HostNetworkState& operator=(const HostNetworkState&) = delete;
  void poke();

 private:
  void run();
  Manager& mgr_;
  model::CarrierOf carrier_;
  int listener_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stop_ = false;
  std::thread thread_;
};

}  // namespace hvnet
