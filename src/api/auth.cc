#include "api/auth.h"

#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace hvnet::api {

namespace {

// PAM asks for the password through a conversation; any other prompt gets no answer.
int converse(int n, const struct pam_message** msg, struct pam_response** resp, void* data) {
  if (n <= 0 || n > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
  auto* out = static_cast<pam_response*>(std::calloc(size_t(n), sizeof(pam_response)));
  if (!out) return PAM_BUF_ERR;
  for (int i = 0; i < n; ++i) {
    if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
      out[i].resp = strdup(static_cast<const char*>(data));
  }
  *resp = out;
  return PAM_SUCCESS;
}

// Replaces PAM's sleep after a failure (pam_unix asks for two seconds).
void no_delay(int, unsigned, void*) {}

std::vector<char> buffer(int which) {
  long n = sysconf(which);
  return std::vector<char>(n > 0 ? size_t(n) : 16384);
}

std::optional<Account> from_passwd(const passwd& pw) {
  Account a{pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_gecos ? pw.pw_gecos : "", {}, false};
  int n = 64;
  std::vector<gid_t> gids(static_cast<size_t>(n));
  while (getgrouplist(pw.pw_name, pw.pw_gid, gids.data(), &n) < 0 && n <= 65536)
    gids.resize(size_t(n));
  gids.resize(size_t(std::max(n, 0)));
  for (gid_t g : gids) a.groups.push_back(g);
  return a;
}

std::optional<Account> from_group(const group& gr) {
  return Account{gr.gr_name, gr.gr_gid, gr.gr_gid, "", {}, true};
}

}  // namespace

bool SystemAccounts::check_password(const std::string& user, const std::string& password) {
  if (user.empty() || user.size() > 256 || password.size() > 4096) return false;
  std::lock_guard lk(pam_mu_);
  pam_conv conv{converse, const_cast<char*>(password.c_str())};
  pam_handle_t* h = nullptr;
  if (pam_start(service_.c_str(), user.c_str(), &conv, &h) != PAM_SUCCESS) return false;
  pam_set_item(h, PAM_FAIL_DELAY, reinterpret_cast<const void*>(&no_delay));
  int rc = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (rc == PAM_SUCCESS) rc = pam_acct_mgmt(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  pam_end(h, rc);
  return rc == PAM_SUCCESS;
}

std::optional<Account> SystemAccounts::user(const std::string& name) {
  auto buf = buffer(_SC_GETPW_R_SIZE_MAX);
  passwd pw{}, *res = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || !res) return {};
  return from_passwd(pw);
}

std::optional<Account> SystemAccounts::user_by_id(uint32_t uid) {
  auto buf = buffer(_SC_GETPW_R_SIZE_MAX);
  passwd pw{}, *res = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) != 0 || !res) return {};
  return from_passwd(pw);
}

std::optional<Account> SystemAccounts::group(const std::string& name) {
  auto buf = buffer(_SC_GETGR_R_SIZE_MAX);
  struct group gr {
  }, *res = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &res) != 0 || !res) return {};
  return from_group(gr);
}

std::optional<Account> SystemAccounts::group_by_id(uint32_t gid) {
  auto buf = buffer(_SC_GETGR_R_SIZE_MAX);
  struct group gr {
  }, *res = nullptr;
  if (getgrgid_r(gid, &gr, buf.data(), buf.size(), &res) != 0 || !res) return {};
  return from_group(gr);
}

std::string subject_identifier(const Account& a) {
  return (a.group ? "g" : "u") + std::to_string(a.id);
}

std::optional<std::string> subject_identifier_of(Authenticator& auth, const std::string& name) {
  if (auto u = auth.user(name)) return subject_identifier(*u);
  if (auto g = auth.group(name)) return subject_identifier(*g);
  return std::nullopt;
}

std::optional<std::map<std::string, std::string>> subject_information(Authenticator& auth,
                                                                      const std::string& sid) {
  if (sid.size() < 2 || sid.size() > 11 || (sid[0] != 'u' && sid[0] != 'g')) return std::nullopt;
  if (sid.find_first_not_of("0123456789", 1) != std::string::npos) return std::nullopt;
  const unsigned long id = std::strtoul(sid.c_str() + 1, nullptr, 10);
  if (id > UINT32_MAX) return std::nullopt;
  auto a = sid[0] == 'u' ? auth.user_by_id(uint32_t(id)) : auth.group_by_id(uint32_t(id));
  if (!a) return std::nullopt;
  if (a->group)
    return std::map<std::string, std::string>{{"subject-name", a->name},
                                              {"subject-uid", sid},
                                              {"subject-gid", sid},
                                              {"subject-is-group", "true"}};
  return std::map<std::string, std::string>{
      {"subject-name", a->name},
      {"subject-uid", sid},
      {"subject-gid", "g" + std::to_string(a->gid)},
      {"subject-gecos", a->gecos},
      {"subject-displayname", a->gecos.empty() ? a->name : a->gecos},
      {"subject-is-group", "false"}};
}

std::vector<std::string> membership(const Account& user) {
  std::vector<std::string> out = {subject_identifier(user)};
  for (uint32_t g : user.groups) {
    std::string s = "g" + std::to_string(g);
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

}  // namespace hvnet::api
