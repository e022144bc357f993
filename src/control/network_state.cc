#include "control/network_state.h"

#include <spdlog/spdlog.h>

namespace hvnet {

HostNetworkState::HostNetworkState(Manager& mgr, model::CarrierOf carrier)
    : mgr_(mgr), carrier_(std::move(carrier)) {
  listener_ = mgr_.subscribe([this](const store::Commit& c) {
    for (const auto& ch : c.changes)
      if (ch.cls == "network" || ch.cls == "PIF" || ch.cls == "VLAN" || ch.cls == "Bond" ||
          ch.cls == "tunnel") {
        poke();
        return;
      }
  });
  thread_ = std::thread([this] { run(); });
}

HostNetworkState::~HostNetworkState() {
  mgr_.unsubscribe(listener_);
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HostNetworkState::poke() {
  {
    std::lock_guard lk(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void HostNetworkState::run() {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return dirty_ || stop_; });
      if (stop_) return;
      dirty_ = false;
    }
    try {
      const std::string host = mgr_.local_host();
      if (host.empty()) continue;
      std::vector<std::string> missing;
      const bool recorded = mgr_.read([&](const model::Txn& t) {
        missing = model::missing_required_networks(t, host, carrier_);
        return model::host_network_state_is(t, host, missing);
      });
      if (recorded) continue;
      auto r = mgr_.write([&](model::Txn& t) -> Result<model::json> {
        // Recomputed on the write's own view: a pool's other writers may have moved on.
        model::set_host_network_state(t, host, model::missing_required_networks(t, host, carrier_));
        return model::json(nullptr);
      });
      if (!r) {
        spdlog::warn("host network state not recorded (retrying): {}", r.error().to_string());
        std::unique_lock lk(mu_);
        cv_.wait_for(lk, std::chrono::seconds(2), [&] { return stop_; });
        dirty_ = true;
      } else {
        spdlog::info("host network state: {} ({} required network(s) missing)",
                     missing.empty() ? "operational" : "non-operational", missing.size());
      }
    } catch (const std::exception& e) {  // never let a bad record end the thread
      spdlog::error("host network state: {}", e.what());
    }
  }
}

}  // namespace hvnet
