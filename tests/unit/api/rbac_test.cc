// Access control: the permission table's rules (pure), and subjects with roles over a real
// Manager and store, with a table of accounts in place of the system's.
#include "api/rbac.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "../mem_switch.h"
#include "../temp_db.h"
#include "api/api.h"
#include "store/sqlite_store.h"

namespace hvnet::api {
namespace {

using model::Role;
using json = nlohmann::json;

TEST(Rbac, PermissionsFollowXapisRules) {
  struct Case {
    const char* method;
    json args;
    const char* name;
    Role role;
  };
  const Case cases[] = {
      {"network.get_all_records", json::array(), "network.get_all_records", Role::kReadOnly},
      {"network.create", json::array(), "network.create", Role::kVmAdmin},
      {"network.set_name_label", json::array(), "network.set_name_label", Role::kPoolOperator},
      {"network.add_tags", json::array(), "network.add_tags", Role::kVmOperator},
      {"network.add_purpose", json::array(), "network.add_purpose", Role::kPoolAdmin},
      {"network.add_to_other_config", json::array({"ref", "folder", "/x"}),
       "network.add_to_other_config/key:folder", Role::kVmOperator},
      {"network.remove_from_other_config", json::array({"ref", "XenCenter.CustomFields.owner"}),
       "network.remove_from_other_config/key:xencenter.customfields.*", Role::kVmOperator},
      {"network.add_to_other_config", json::array({"ref", "mtu", "1"}),
       "network.add_to_other_config", Role::kPoolOperator},
      {"VM.add_to_other_config", json::array({"ref", "pci", "0/0000:00:01.0"}),
       "vm.add_to_other_config/key:pci", Role::kPoolAdmin},
      {"Async.VLAN.create", json::array(), "vlan.create", Role::kPoolOperator},
      {"VIF.plug", json::array(), "vif.plug", Role::kVmAdmin},
      {"VIF.set_locking_mode", json::array(), "vif.set_locking_mode", Role::kPoolOperator},
      {"host.get_management_interface", json::array(), "host.get_management_interface",
       Role::kPoolOperator},
      {"subject.add_to_roles", json::array(), "subject.add_to_roles", Role::kPoolAdmin},
      {"event.from", json::array(), "event.from", Role::kReadOnly},
      {"task.cancel", json::array(), "task.cancel", Role::kReadOnly},
      {"session.logout_subject_identifier", json::array(), "session.logout_subject_identifier",
       Role::kPoolOperator},
  };
  for (const auto& c : cases) {
    auto p = rbac::permission_of(c.method, c.args);
    EXPECT_EQ(p.name, c.name) << c.method;
    EXPECT_EQ(p.role, c.role) << c.method;
  }
  EXPECT_EQ(rbac::denied_message(Role::kPoolOperator),
            "No permission in user session. (Roles with this permission: pool-admin, "
            "pool-operator)");
}

TEST(Rbac, RolesHaveXapisUuidsAndNest) {
  EXPECT_EQ(rbac::role_uuid(Role::kPoolAdmin), "0165f154-ba3e-034e-6b27-5d271af109ba");
  EXPECT_EQ(rbac::role_uuid(Role::kVmAdmin), "aaa00ab5-7340-bfbc-0d1b-7cf342639a6e");  // MD5
  for (const auto& r : model::all_roles())
    EXPECT_EQ(rbac::role_of_uuid(rbac::role_uuid(r.role)), r.role);
  const std::vector<std::string> methods = {"network.create", "network.get_all",
                                            "network.add_to_other_config", "VLAN.create"};
  auto ro = rbac::permissions_of(Role::kReadOnly, methods);
  auto op = rbac::permissions_of(Role::kVmOperator, methods);
  auto admin = rbac::permissions_of(Role::kPoolAdmin, methods);
  EXPECT_EQ(ro, (std::vector<std::string>{"network.get_all"}));
  EXPECT_EQ(op,
            (std::vector<std::string>{"network.add_to_other_config/key:folder",
                                      "network.add_to_other_config/key:xencenter.customfields.*",
                                      "network.add_to_other_config/key:xencentercreateinprogress",
                                      "network.get_all"}));
  EXPECT_EQ(admin.size(), 7u);
}

// Accounts: name -> (uid, password); groups by gid.
class TableAccounts : public Authenticator {
 public:
  std::map<std::string, std::pair<Account, std::string>> users;
  bool check_password(const std::string& u, const std::string& pw) override {
    auto it = users.find(u);
    return it != users.end() && it->second.second == pw;
  }
  std::optional<Account> user(const std::string& n) override {
    auto it = users.find(n);
    if (it == users.end()) return std::nullopt;
    return it->second.first;
  }
  std::optional<Account> user_by_id(uint32_t uid) override {
    for (auto& [n, u] : users)
      if (u.first.id == uid) return u.first;
    return std::nullopt;
  }
  std::optional<Account> group(const std::string&) override { return std::nullopt; }
  std::optional<Account> group_by_id(uint32_t) override { return std::nullopt; }
};

class SubjectTest : public ::testing::Test {
 protected:
  SubjectTest() {
    EXPECT_TRUE(store_.open(db_.path));
    mgr_ =
        std::make_unique<Manager>(store_, &sw_.ctl, [] { return std::vector<model::NicInfo>{}; });
    EXPECT_TRUE(mgr_->start("host1"));
    api_ = std::make_unique<Api>(*mgr_, Credentials{"root", "secret"});
    accounts_ = std::make_shared<TableAccounts>();
    accounts_->users["alice"] = {Account{"alice", 1001, 100, "Alice A", {100}, false}, "pw-a"};
    api_->set_authenticator(accounts_);
    root_ = login("root", "secret").value().get<std::string>();
  }
  Result<json> login(const std::string& u, const std::string& pw) {
    return api_->call("session.login_with_password", json::array({u, pw}), Caller{});
  }
  // (std::vector: `{ref}` is a list of one under every compiler, as a json it may be the ref.)
  Result<json> as(const std::string& s, const std::string& m, std::vector<json> args = {}) {
    json p = json::array({s});
    for (auto& a : args) p.push_back(a);
    return api_->call(m, p, Caller{});
  }
  std::string code(const Result<json>& r) { return r ? "OK" : r.error().code; }
  json role_ref(Role r) { return "OpaqueRef:" + rbac::role_uuid(r); }

  test::TempDb db_{"rbac"};
  test::MemSwitch sw_;
  store::SqliteStore store_;
  std::unique_ptr<Manager> mgr_;
  std::unique_ptr<Api> api_;
  std::shared_ptr<TableAccounts> accounts_;
  std::string root_;
};

TEST_F(SubjectTest, RolesDecideEachCallAndRemovalEndsTheSubject) {
  auto refused = login("alice", "pw-a");
  ASSERT_EQ(code(refused), "SESSION_AUTHORIZATION_FAILED");  // not a subject yet
  EXPECT_EQ(code(login("alice", "wrong")), "SESSION_AUTHENTICATION_FAILED");
  auto sid = as(root_, "auth.get_subject_identifier", {"alice"});
  ASSERT_EQ(sid.value(), "u1001");
  auto subj = as(root_, "subject.create", {json::object({{"subject_identifier", "u1001"}})});
  ASSERT_TRUE(subj) << subj.error().to_string();
  auto rec = as(root_, "subject.get_record", {subj.value()}).value();
  EXPECT_EQ(rec["other_config"]["subject-name"], "alice");
  EXPECT_EQ(rec["other_config"]["subject-displayname"], "Alice A");
  EXPECT_EQ(rec["roles"], json::array());
  EXPECT_EQ(code(as(root_, "subject.create", {json::object({{"subject_identifier", "u1001"}})})),
            "SUBJECT_ALREADY_EXISTS");
  EXPECT_EQ(code(as(root_, "subject.create", {json::object({{"subject_identifier", "u4242"}})})),
            "SUBJECT_CANNOT_BE_RESOLVED");
  EXPECT_EQ(code(login("alice", "pw-a")), "RBAC_PERMISSION_DENIED");  // no roles

  ASSERT_TRUE(as(root_, "subject.add_to_roles", {subj.value(), role_ref(Role::kVmAdmin)}));
  EXPECT_EQ(code(as(root_, "subject.add_to_roles", {subj.value(), role_ref(Role::kVmAdmin)})),
            "ROLE_ALREADY_EXISTS");
  EXPECT_EQ(code(as(root_, "subject.add_to_roles", {subj.value(), "OpaqueRef:nope"})),
            "ROLE_NOT_FOUND");
  auto s = login("alice", "pw-a").value().get<std::string>();
  auto net = as(s, "network.create", {json::object({{"name_label", "a"}})});
  ASSERT_TRUE(net) << net.error().to_string();
  auto denied = as(s, "network.add_purpose", {net.value(), "nbd"});
  ASSERT_EQ(code(denied), "RBAC_PERMISSION_DENIED");
  EXPECT_EQ(
      denied.error().params,
      (std::vector<std::string>{"network.add_purpose", rbac::denied_message(Role::kPoolAdmin)}));
  // A subject may not give itself roles.
  EXPECT_EQ(code(as(s, "subject.add_to_roles", {subj.value(), role_ref(Role::kPoolAdmin)})),
            "RBAC_PERMISSION_DENIED");
  EXPECT_EQ(as(s, "session.get_auth_user_sid", {s}).value(), "u1001");

  ASSERT_TRUE(as(root_, "subject.remove_from_roles", {subj.value(), role_ref(Role::kVmAdmin)}));
  EXPECT_EQ(code(as(s, "network.get_all")), "RBAC_PERMISSION_DENIED");  // the very next call
  ASSERT_TRUE(as(root_, "subject.add_to_roles", {subj.value(), role_ref(Role::kReadOnly)}));
  EXPECT_EQ(code(as(s, "network.get_all")), "OK");
  ASSERT_TRUE(as(root_, "subject.destroy", {subj.value()}));
  EXPECT_EQ(code(as(s, "network.get_all")), "SESSION_INVALID");
  EXPECT_EQ(code(login("alice", "pw-a")), "SESSION_AUTHORIZATION_FAILED");
  // Root is never subject to roles.
  EXPECT_EQ(code(as(root_, "network.add_purpose", {net.value(), "nbd"})), "OK");
}

}  // namespace
}  // namespace hvnet::api
