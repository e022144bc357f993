#include "daemon/ctl_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/bounded_json.h"

namespace hvnet {

namespace {
nlohmann::json error_reply(const Error& e) {
  nlohmann::json err = nlohmann::json::array({e.code});
  for (const auto& p : e.params) err.push_back(p);
  return {{"status", "error"}, {"error", err}};
}
}  // namespace

CtlServer::~CtlServer() {
  stop();
}

Status CtlServer::start() {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  ::unlink(path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path_.size() >= sizeof sa.sun_path) return make_error("INVALID_VALUE", {"ctl", path_});
  std::strcpy(sa.sun_path, path_.c_str());
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
      listen(listen_fd_, 16) < 0)
    return make_error("INTERNAL_ERROR", {"control socket " + path_, std::strerror(errno)});
  ::chmod(path_.c_str(), 0600);
  if (pipe2(stop_pipe_, O_CLOEXEC) < 0) return make_error("INTERNAL_ERROR", {std::strerror(errno)});
  thread_ = std::thread([this] { serve(); });
  return ok_status();
}

void CtlServer::stop() {
  if (thread_.joinable()) {
    [[maybe_unused]] ssize_t n = write(stop_pipe_[1], "x", 1);
    thread_.join();
  }
  for (int fd : {listen_fd_, stop_pipe_[0], stop_pipe_[1]})
    if (fd >= 0) ::close(fd);
  listen_fd_ = stop_pipe_[0] = stop_pipe_[1] = -1;
  ::unlink(path_.c_str());
}

std::string CtlServer::handle(const std::string& line) {
  try {
    return handle_unchecked(line);
  } catch (const std::exception& e) {  // one bad request costs its reply, not the daemon
    return error_reply(make_error("INTERNAL_ERROR", {e.what()}))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  }
}

std::string CtlServer::handle_unchecked(const std::string& line) {
  auto parsed = parse_bounded_json(line, JsonLimits{64, 1000000});
  nlohmann::json req = parsed ? std::move(parsed.value()) : nlohmann::json();
  nlohmann::json reply;
  if (!parsed) {
    reply = error_reply(parsed.error());
  } else if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) {
    reply = error_reply(
        make_error("MESSAGE_PARAMETER_INVALID", {"request is not a JSON object with cmd"}));
  } else {
    const std::string cmd = req["cmd"];
    if (cmd == "fdb") {
      reply = {{"status", "ok"}, {"value", ctl_.fdb_json()}};
    } else if (cmd == "drops") {
      reply = {{"status", "ok"}, {"value", ctl_.drops_json()}};
    } else if (cmd == "stats") {
      reply = {{"status", "ok"}, {"value", ctl_.stats_json()}};
    } else if (cmd == "topology") {
      reply = {{"status", "ok"}, {"value", topology_to_json(ctl_.topology())}};
    } else if (cmd == "apply" && !allow_apply_) {
      reply = error_reply(make_error("OPERATION_NOT_ALLOWED",
                                     {"the configuration is managed through the API (xe)"}));
    } else if (cmd == "apply") {
      auto spec = parse_topology(req.value("topology", nlohmann::json()));
      Status st = spec ? ctl_.apply(spec.value()) : Status(spec.error());
      reply = st ? nlohmann::json{{"status", "ok"}, {"value", ""}} : error_reply(st.error());
    } else {
      reply = error_reply(make_error("MESSAGE_METHOD_UNKNOWN", {cmd}));
    }
  }
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void CtlServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string buf;
    char chunk[4096];
    for (;;) {
      // EINTR is not the end of a request: with a receive timeout set, the kernel reports any
      // interruption of this thread (io_uring task work of the rings this thread made) as EINTR.
      ssize_t n = read(c, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buf.append(chunk, size_t(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string reply = handle(buf.substr(0, nl));
        buf.erase(0, nl + 1);
        for (size_t off = 0; off < reply.size();) {
          ssize_t w = write(c, reply.data() + off, reply.size() - off);
          if (w < 0 && errno == EINTR) continue;
          if (w <= 0) break;
          off += size_t(w);
        }
      }
      if (buf.size() > (16u << 20)) break;
    }
    ::close(c);
  }
}

}  // namespace hvnet
