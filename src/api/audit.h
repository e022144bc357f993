// The audit log: one JSON line per API write and per login attempt (when, who, from where, the
// call, its arguments with secrets left out, and the outcome), appended to a file in hvnetd's state
// directory and rotated by size (audit.log, audit.log.1 … audit.log.<keep>). Read back with
// pool.audit_log_get / `xe audit-log-get [since=<time>]`. Thread-safe.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace hvnet::api {

class AuditLog {
 public:
  explicit AuditLog(std::string path, size_t max_bytes = 4 << 20, int keep = 5);
  // Appends `entry` as one line; rotates first when the file would pass max_bytes.
  void record(const nlohmann::json& entry);
  // Every line whose "time" is at or after `since` ("" = all), oldest first, across the rotated
  // files that remain.
  std::string since(const std::string& since) const;

 private:
  std::string path_;
  size_t max_bytes_;
  int keep_;
  mutable std::mutex mu_;
};

// Whether a call is one the audit log records: anything that can change something (not getters,
// events, data sources or session bookkeeping), and logins.
bool audited(const std::string& method);
// The arguments as the log keeps them: secrets replaced by "(secret)", long values cut.
nlohmann::json audit_args(const std::string& method, const nlohmann::json& params_after_session);

}  // namespace hvnet::api
