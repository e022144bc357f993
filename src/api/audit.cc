#include "api/audit.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hvnet::api {

using json = nlohmann::json;

AuditLog::AuditLog(std::string path, size_t max_bytes, int keep)
    : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep) {}

void AuditLog::record(const json& entry) {
  const std::string line = entry.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::lock_guard lk(mu_);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  if (!ec && size + line.size() > max_bytes_) {
    for (int i = keep_ - 1; i >= 1; --i)
      std::filesystem::rename(path_ + "." + std::to_string(i), path_ + "." + std::to_string(i + 1),
                              ec);
    std::filesystem::rename(path_, path_ + ".1", ec);
  }
  const bool fresh = !std::filesystem::exists(path_);
  std::ofstream out(path_, std::ios::app);
  out << line;
  out.flush();
  if (fresh) ::chmod(path_.c_str(), 0600);  // who did what is root's to read
}

std::string AuditLog::since(const std::string& from) const {
  std::lock_guard lk(mu_);
  std::string out;
  for (int i = keep_; i >= 0; --i) {
    std::ifstream in(i ? path_ + "." + std::to_string(i) : path_);
    std::string line;
    while (std::getline(in, line)) {
      if (!from.empty()) {
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || j.value("time", "") < from) continue;
      }
      out += line + "\n";
    }
  }
  return out;
}

bool audited(const std::string& method) {
  std::string m = method.rfind("Async.", 0) == 0 ? method.substr(6) : method;
  const auto dot = m.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string cls = m.substr(0, dot), verb = m.substr(dot + 1);
  if (m == "session.login_with_password") return true;
  if (cls == "session" || cls == "system" || cls == "event") return false;
  if (verb.rfind("get", 0) == 0 || verb == "query_data_source" || verb == "audit_log_get")
    return false;
  return true;
}

json audit_args(const std::string& method, const json& params) {
  json out = json::array();
  for (size_t i = 0; i < params.size(); ++i) {
    const bool secret = (method == "session.login_with_password" && i == 1) ||
                        (method.ends_with("host.install_server_certificate") && i == 2);
    if (secret) {
      out.push_back("(secret)");
      continue;
    }
    std::string v = params[i].is_string()
                        ? params[i].get<std::string>()
                        : params[i].dump(-1, ' ', false, json::error_handler_t::replace);
    const bool cut = v.size() > 1024;
    if (cut) v = v.substr(0, 1024) + "…";
    out.push_back(params[i].is_string() || cut ? json(v) : params[i]);
  }
  return out;
}

}  // namespace hvnet::api
