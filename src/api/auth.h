// Who may log in: system accounts checked through PAM, named to the API as xapi's local
// authentication names them: a user is subject "u<uid>", a group "g<gid>". The API keeps the
// list of subjects (and their roles) in the store; this is the directory it resolves them in.
// Authenticator is the seam: hvnetd uses the system's (SystemAccounts), unit tests a table.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hvnet::api {

struct Account {
  std::string name;
  uint32_t id = 0;               // uid, or gid for a group
  uint32_t gid = 0;              // a user's primary group
  std::string gecos;             // a user's full name ("" for groups)
  std::vector<uint32_t> groups;  // every group a user is in (primary included)
  bool group = false;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Whether `password` is the account's and the account may log in now. May block (PAM).
  virtual bool check_password(const std::string& user, const std::string& password) = 0;
  virtual std::optional<Account> user(const std::string& name) = 0;
  virtual std::optional<Account> user_by_id(uint32_t uid) = 0;
  virtual std::optional<Account> group(const std::string& name) = 0;
  virtual std::optional<Account> group_by_id(uint32_t gid) = 0;
};

// The system's accounts (getpwnam_r, getgrouplist) and passwords (PAM service `service`, which
// falls back to PAM's "other" when /etc/pam.d has no file for it). PAM modules are not all
// reentrant: password checks run one at a time, and without PAM's own failure delay (the API
// throttles failed logins itself, without holding a thread).
class SystemAccounts : public Authenticator {
 public:
  explicit SystemAccounts(std::string service = "hvnet") : service_(std::move(service)) {}
  bool check_password(const std::string& user, const std::string& password) override;
  std::optional<Account> user(const std::string& name) override;
  std::optional<Account> user_by_id(uint32_t uid) override;
  std::optional<Account> group(const std::string& name) override;
  std::optional<Account> group_by_id(uint32_t gid) override;

 private:
  std::string service_;
  std::mutex pam_mu_;
};

// Subject identifiers: "u1001" for user 1001, "g27" for group 27.
std::string subject_identifier(const Account& a);
// The identifier `name` has (a user first, then a group), or nullopt.
std::optional<std::string> subject_identifier_of(Authenticator& auth, const std::string& name);
// What the directory says of a subject (xapi's keys: subject-name, subject-uid, subject-gid,
// subject-gecos, subject-displayname, subject-is-group), or nullopt for an unknown identifier.
std::optional<std::map<std::string, std::string>> subject_information(Authenticator& auth,
                                                                      const std::string& sid);
// The identifiers a user logs in as: itself and each of its groups.
std::vector<std::string> membership(const Account& user);

}  // namespace hvnet::api
