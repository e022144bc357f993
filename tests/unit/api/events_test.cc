// The change feed and XenAPI's event calls over a real Manager and SQLite store, with an injected
// clock and the event hub pumped by hand (no thread, no sleeps): collapsing, del without snapshot,
// long polls answered by a change or by their deadline, subscriptions, tokens across a restart,
// the legacy register/next with its bounded backlog, tasks, and a reconcile that touches only
// what changed.
#include <gtest/gtest.h>

#include <set>
#include <unistd.h>

#include <filesystem>

#include "../mem_switch.h"
#include "../temp_db.h"
#include "api/api.h"
#include "store/sqlite_store.h"

namespace hvnet::api {
namespace {

class EventsTest : public ::testing::Test {
 protected:
  EventsTest() { start(); }
  ~EventsTest() override { stop(); }
  void start(EventHub::Limits limits = {}) {
    store_ = std::make_unique<store::SqliteStore>();
    EXPECT_TRUE(store_->open(db_.path));
    mgr_ = std::make_unique<Manager>(*store_, &sw_.ctl, [] {
      return std::vector<model::NicInfo>{{"eth0", "52:54:00:00:00:01", 1500}};
    });
    EXPECT_TRUE(mgr_->start("host1"));
    api_ = std::make_unique<Api>(
        *mgr_, Credentials{"root", "secret"}, SessionPolicy{}, [this] { return now_; }, limits,
        /*threaded_events=*/false);
    session_ = api_->call("session.login_with_password", json::array({"root", "secret"}),
                          Caller(Origin::kLocal))
                   .value()
                   .get<std::string>();
  }
  void stop() {
    api_.reset();
    mgr_.reset();
    store_.reset();
  }
  void restart(EventHub::Limits limits = {}) {
    stop();
    start(limits);
  }
  Result<json> call(const std::string& m, json args = json::array()) {
    json p = json::array({session_});
    for (auto& a : args) p.push_back(a);
    return api_->call(m, p, Caller(Origin::kLocal));
  }
  json ok(const std::string& m, json args = json::array()) {
    auto r = call(m, std::move(args));
    EXPECT_TRUE(r) << m << ": " << (r ? "" : r.error().to_string());
    return r ? r.value() : json();
  }
  // A call whose answer may come later: the slot is filled when it does.
  std::shared_ptr<std::optional<Result<json>>> call_later(const std::string& m, json args) {
    auto slot = std::make_shared<std::optional<Result<json>>>();
    json p = json::array({session_});
    for (auto& a : args) p.push_back(a);
    api_->call_async(m, p, Caller(Origin::kLocal),
                     [slot](Result<json> r) { *slot = std::move(r); });
    return slot;
  }
  std::string token() { return ok("event.inject", {"pool", ok("pool.get_all")[0]}); }
  static std::map<std::string, std::string> ops(const json& from_result) {
    std::map<std::string, std::string> out;
    for (const auto& e : from_result["events"])
      out[e["class"].get<std::string>() + " " + e["ref"].get<std::string>()] = e["operation"];
    return out;
  }

  test::TempDb db_{"events"};
  test::MemSwitch sw_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Manager> mgr_;
  std::unique_ptr<Api> api_;
  std::string session_;
  Api::Clock::time_point now_{std::chrono::seconds(1000)};
};

TEST_F(EventsTest, RepeatedChangesCollapseAndDeletesCarryNoSnapshot) {
  const std::string t0 = token();
  const size_t networks = ok("network.get_all").size();  // (the PIF's network is there already)
  const std::string net = ok("network.create", {{{"name_label", "a"}}});
  for (const char* n : {"b", "c", "d"}) ok("network.set_name_label", {net, n});
  auto r = ok("event.from", {json::array({"network"}), t0, 0});
  ASSERT_EQ(r["events"].size(), 1u);  // one event for four changes, with the latest record
  EXPECT_EQ(r["events"][0]["operation"], "add");
  EXPECT_EQ(r["events"][0]["snapshot"]["name_label"], "d");
  EXPECT_EQ(r["valid_ref_counts"]["network"], networks + 1);
  const std::string t1 = r["token"];
  EXPECT_EQ(t1.size(), 41u);  // xapi's "%020d,%020d"
  ok("network.destroy", {net});
  auto d = ok("event.from", {json::array({"Network"}), t1, 0});  // class names: any case
  ASSERT_EQ(d["events"].size(), 1u);
  EXPECT_EQ(d["events"][0]["operation"], "del");
  EXPECT_FALSE(d["events"][0].contains("snapshot"));
  EXPECT_EQ(d["valid_ref_counts"]["network"], networks);
  // Nothing since: an empty answer at once with timeout 0, the same token.
  auto none = ok("event.from", {json::array({"network"}), d["token"], 0});
  EXPECT_TRUE(none["events"].empty());
  EXPECT_EQ(none["token"], d["token"]);
}

TEST_F(EventsTest, TheEmptyTokenBeginsWithEveryObjectAndTheTokenOfNow) {
  const std::string net = ok("network.create", {{{"name_label", "a"}}});
  auto all = ok("event.from", {json::array({"network", "host"}), "", 0});
  std::set<std::string> refs;
  for (const auto& e : all["events"]) {
    EXPECT_EQ(e["operation"], "add");
    EXPECT_TRUE(e.contains("snapshot"));
    refs.insert(e["ref"]);
  }
  for (const auto& r : ok("network.get_all")) EXPECT_TRUE(refs.count(r)) << r;
  for (const auto& r : ok("host.get_all")) EXPECT_TRUE(refs.count(r)) << r;
  EXPECT_EQ(refs.size(), ok("network.get_all").size() + ok("host.get_all").size());
  // From its token: only what changes next.
  auto none = ok("event.from", {json::array({"network", "host"}), all["token"], 0});
  EXPECT_TRUE(none["events"].empty());
  ok("network.set_name_label", {net, "b"});
  auto next = ok("event.from", {json::array({"network", "host"}), all["token"], 0});
  ASSERT_EQ(next["events"].size(), 1u);
  EXPECT_EQ(next["events"][0]["ref"], net);
}

TEST_F(EventsTest, LongPollIsAnsweredByAChangeOrByItsDeadline) {
  const std::string t0 = token();
  auto waiting = call_later("event.from", {json::array({"network"}), t0, 60.1});
  EXPECT_FALSE(waiting->has_value());  // nothing yet: it waits, holding no thread
  EXPECT_EQ(api_->events().waiting(), 1u);
  ok("VM.create", {{{"name_label", "not a network"}}});  // another class: still waiting
  api_->events().pump();
  EXPECT_FALSE(waiting->has_value());
  const std::string net = ok("network.create", {{{"name_label", "n"}}});
  api_->events().pump();
  ASSERT_TRUE(waiting->has_value());
  ASSERT_TRUE(**waiting);
  auto ev = (**waiting).value()["events"];
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["ref"], net);
  EXPECT_EQ(ev[0]["operation"], "add");
  // Timeout: answered empty once the (injected) clock passes the deadline, not before.
  auto idle = call_later("event.from", {json::array({"network"}), (**waiting).value()["token"], 5});
  now_ += std::chrono::seconds(4);
  api_->events().pump();
  EXPECT_FALSE(idle->has_value());
  now_ += std::chrono::seconds(2);
  api_->events().pump();
  ASSERT_TRUE(idle->has_value() && **idle);
  EXPECT_TRUE((**idle).value()["events"].empty());
  EXPECT_EQ(api_->events().waiting(), 0u);
}

TEST_F(EventsTest, SubscriptionsAndTokensAreChecked) {
  const std::string t0 = token();
  const std::string a = ok("network.create", {{{"name_label", "a"}}});
  ok("network.create", {{{"name_label", "b"}}});
  auto one = ok("event.from", {json::array({"network/" + a.substr(0)}), t0, 0});
  ASSERT_EQ(one["events"].size(), 1u);  // class/ref: that object only
  EXPECT_EQ(one["events"][0]["ref"], a);
  EXPECT_TRUE(ok("event.from", {json::array({"nosuchclass"}), t0, 0})["events"].empty());
  EXPECT_EQ(call("event.from", {json::array({"network"}), "12x", 0}).error().code,
            "EVENT_FROM_TOKEN_PARSE_FAILURE");
  EXPECT_EQ(call("event.from", {json::array({1}), t0, 0}).error().code,
            "EVENT_SUBSCRIPTION_PARSE_FAILURE");
  EXPECT_EQ(call("event.from", {"network", t0, 0}).error().code,
            "EVENT_SUBSCRIPTION_PARSE_FAILURE");
  // A token from beyond this store's history is lost, never an empty answer.
  EXPECT_EQ(call("event.from", {json::array({"*"}), "00000000000099999999,00000000000000000000", 0})
                .error()
                .code,
            "EVENTS_LOST");
}

TEST_F(EventsTest, DerivedFieldsChangeWithTheObjectsTheyList) {
  const std::string net = ok("network.create", {{{"name_label", "n"}}});
  const std::string vm = ok("VM.create", {{{"name_label", "vm"}}});
  const std::string t0 = token();
  const std::string vif = ok("VIF.create", {{{"VM", vm}, {"network", net}, {"device", "0"}}});
  auto r = ok("event.from", {json::array({"*"}), t0, 0});
  auto o = ops(r);
  EXPECT_EQ(o["vif " + vif], "add");
  EXPECT_EQ(o["network " + net], "mod");  // its VIFs now list the new VIF
  EXPECT_EQ(o["vm " + vm], "mod");
  for (const auto& e : r["events"])
    if (e["ref"] == net) EXPECT_EQ(e["snapshot"]["VIFs"], json::array({vif}));
}

TEST_F(EventsTest, AnOldTokenAfterARestartGetsEverythingSinceOrEventsLost) {
  const std::string t0 = token();
  const std::string keep = ok("network.create", {{{"name_label", "keep"}}});
  const std::string gone = ok("network.create", {{{"name_label", "gone"}}});
  auto mid = ok("event.from", {json::array({"network"}), t0, 0})["token"];
  ok("network.set_name_label", {keep, "kept"});
  ok("network.destroy", {gone});
  restart();
  // Sessions live in memory: the old one is gone.
  auto r = ok("event.from", {json::array({"network"}), mid, 0});
  auto o = ops(r);
  EXPECT_EQ(o.size(), 2u);
  EXPECT_EQ(o["network " + keep], "mod");
  EXPECT_EQ(o["network " + gone], "del");
  for (const auto& e : r["events"])
    if (e["ref"] == keep) EXPECT_EQ(e["snapshot"]["name_label"], "kept");
  // And from the new token on, the ring serves as before.
  ok("network.set_name_label", {keep, "again"});
  EXPECT_EQ(ok("event.from", {json::array({"network"}), r["token"], 0})["events"].size(), 1u);
}

TEST_F(EventsTest, LegacyRegisterNextWithABoundedBacklog) {
  EXPECT_EQ(call("event.next").error().code, "SESSION_NOT_REGISTERED");
  restart(EventHub::Limits{100000, 10000, /*session_backlog=*/2, std::chrono::seconds(600)});
  ok("event.register", json::array({json::array({"network"})}));
  auto waiting = call_later("event.next", json::array());
  EXPECT_FALSE(waiting->has_value());
  const std::string n = ok("network.create", {{{"name_label", "n"}}});
  api_->events().pump();
  ASSERT_TRUE(waiting->has_value() && **waiting);
  ASSERT_EQ((**waiting).value().size(), 1u);
  EXPECT_EQ((**waiting).value()[0]["ref"], n);
  for (const char* name : {"a", "b", "c"}) ok("network.create", {{{"name_label", name}}});
  EXPECT_EQ(call("event.next").error().code, "EVENTS_LOST");  // three pending, room for two
  ok("network.set_name_label", {n, "m"});
  EXPECT_EQ(ok("event.next").size(), 1u);  // carried on after the loss
}

TEST_F(EventsTest, AsyncCallsRunAsTasksWithResultOrErrorInfo) {
  const std::string net = ok("network.create", {{{"name_label", "v"}}});
  const std::string pif = ok("PIF.get_all")[0];
  const std::string t0 = token();
  const std::string good = ok("Async.VLAN.create", {pif, 5, net});
  auto rec = ok("task.get_record", {good});
  EXPECT_EQ(rec["status"], "success");
  const std::string result = rec["result"];
  EXPECT_EQ(result.rfind("<value>OpaqueRef:", 0), 0u) << result;
  const std::string vlan = result.substr(7, result.size() - 7 - 8);
  EXPECT_EQ(ok("VLAN.get_tag", {vlan}), 5);
  const std::string other = ok("network.create", {{{"name_label", "w"}}});
  const std::string bad = ok("Async.VLAN.create", {pif, 4096, other});
  auto failed = ok("task.get_record", {bad});
  EXPECT_EQ(failed["status"], "failure");
  EXPECT_EQ(failed["error_info"][0], "VLAN_TAG_INVALID");
  auto r = ok("event.from", {json::array({"task"}), t0, 0});
  EXPECT_EQ(ops(r)["task " + good], "add");
  EXPECT_EQ(r["valid_ref_counts"]["task"], 2);
  ok("task.destroy", {good});
  EXPECT_EQ(call("task.get_record", {good}).error().code, "HANDLE_INVALID");
  EXPECT_EQ(ops(ok("event.from", {json::array({"task"}), r["token"], 0}))["task " + good], "del");
  EXPECT_EQ(ok("task.get_all").size(), 1u);
}

TEST_F(EventsTest, AWriteReconfiguresOnlyWhatItChanged) {
  const std::string net = ok("network.create", {{{"name_label", "n"}}});
  const std::string vm = ok("VM.create", {{{"name_label", "vm"}}});
  std::vector<std::string> vifs;
  for (const char* dev : {"0", "1"}) {
    vifs.push_back(ok("VIF.create", {{{"VM", vm}, {"network", net}, {"device", dev}}}));
    ok("VIF.plug", {vifs.back()});
  }
  const auto opens = sw_.opens;
  const uint64_t published = sw_.slot.generation();
  // Names, descriptions, tags and other_config: no reconfiguration at all.
  ok("network.set_name_label", {net, "renamed"});
  ok("network.add_to_other_config", {net, "k", "v"});
  ok("VM.set_name_description", {vm, "d"});
  ok("pool.add_to_other_config", {ok("pool.get_all")[0], "barrier", "1"});
  EXPECT_EQ(sw_.slot.generation(), published);
  // A VIF's rate limit: a new snapshot, no port re-opened.
  ok("VIF.set_qos_algorithm_type", {vifs[0], "ratelimit"});
  ok("VIF.set_qos_algorithm_params", {vifs[0], {{"kbps", "100"}}});
  EXPECT_GT(sw_.slot.generation(), published);
  EXPECT_EQ(sw_.opens, opens);
  // Unplugging one VIF leaves the other's port alone.
  ok("VIF.unplug", {vifs[0]});
  ok("VIF.plug", {vifs[0]});
  const std::string dev0 = "vif1.0", dev1 = "vif1.1";
  EXPECT_EQ(sw_.opens[dev0], opens.at(dev0) + 1);
  EXPECT_EQ(sw_.opens[dev1], opens.at(dev1));
}

TEST_F(EventsTest, AWriteThisHostCannotApplyIsRevertedByACompensatingCommit) {
  const std::string net = ok("network.create", {{{"name_label", "n"}}});
  const std::string vm = ok("VM.create", {{{"name_label", "vm"}}});
  const std::string vif = ok("VIF.create", {{{"VM", vm}, {"network", net}, {"device", "0"}}});
  const std::string t0 = token();
  sw_.fail_open = "vif1.0";
  auto r = call("VIF.plug", {vif});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "PORT_OPEN_FAILED");
  EXPECT_EQ(ok("VIF.get_currently_attached", {vif}), false);  // nothing of it remains
  restart();  // and nothing of it was left in the store
  EXPECT_EQ(ok("VIF.get_currently_attached", {vif}), false);
  // Listeners saw the write and its undo: the object ends as it began.
  auto ev = ok("event.from", {json::array({"vif"}), t0, 0});
  ASSERT_EQ(ev["events"].size(), 1u);
  EXPECT_EQ(ev["events"][0]["snapshot"]["currently_attached"], false);
}

}  // namespace
}  // namespace hvnet::api
