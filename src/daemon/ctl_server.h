// CtlServer: hvnetd's local control socket (a Unix stream socket, root only). One JSON request per
// line, one JSON reply per line: {"cmd":"fdb"|"stats"|"topology"|"apply","topology":{...}}.
// Replies are {"status":"ok","value":...} or {"status":"error","error":[CODE, params...]}.
// Runs on its own thread; never touches the data plane except through the SwitchController.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "control/switch_controller.h"

namespace hvnet {

class CtlServer {
 public:
  // With allow_apply false (the network manager owns the configuration) "apply" is refused.
  CtlServer(std::string path, SwitchController& ctl, bool allow_apply = true)
      : path_(std::move(path)), ctl_(ctl), allow_apply_(allow_apply) {}
  ~CtlServer();
  Status start();
  void stop();
  // Handles one request line and returns the reply line (exposed for tests).
  std::string handle(const std::string& line);

 private:
  std::string handle_unchecked(const std::string& line);
  void serve();
  std::string path_;
  SwitchController& ctl_;
  bool allow_apply_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace hvnet
