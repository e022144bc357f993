// EtcdStore against a real etcd (Debian's etcd-server), started on free loopback ports in a
// directory of its own and stopped after each test; skipped where etcd is not installed. Two
// stores on the same etcd stand for two hosts of a pool.
#include "store/etcd_store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <atomic>
#include <thread>

#include "../mem_switch.h"
#include "control/manager.h"
#include "model/ops.h"

namespace hvnet::store {
namespace {

uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class Etcd {
 public:
  Etcd() : dir_(std::filesystem::temp_directory_path() / ("hvnet-etcd-" + model::new_uuid())) {
    client_ = free_port();
    peer_ = free_port();
    std::filesystem::create_directories(dir_);
    const std::string c = "http://127.0.0.1:" + std::to_string(client_);
    const std::string p = "http://127.0.0.1:" + std::to_string(peer_);
    fflush(nullptr);  // nothing buffered is written twice
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = (dir_ / "log").string();
      if (!freopen(log.c_str(), "w", stderr) || !freopen(log.c_str(), "a", stdout)) _exit(126);
      execlp("etcd", "etcd", "--data-dir", (dir_ / "data").c_str(), "--listen-client-urls",
             c.c_str(), "--advertise-client-urls", c.c_str(), "--listen-peer-urls", p.c_str(),
             "--initial-advertise-peer-urls", p.c_str(), "--initial-cluster",
             ("default=" + p).c_str(), nullptr);
      _exit(127);
    }
    // Ready when it answers a read (deadline 15 s).
    EtcdClient probe({endpoint()}, std::chrono::milliseconds(500));
    for (int i = 0; i < 150 && !probe.call("kv/range", {{"key", "AA=="}}); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~Etcd() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  EtcdEndpoint endpoint() const { return EtcdEndpoint{"127.0.0.1", client_, false, "", "", ""}; }

 private:
  std::filesystem::path dir_;
  uint16_t client_ = 0, peer_ = 0;
  pid_t pid_ = -1;
};

class EtcdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (system("command -v etcd >/dev/null 2>&1") != 0) GTEST_SKIP() << "etcd is not installed";
    etcd_ = std::make_unique<Etcd>();
  }
  std::unique_ptr<Etcd> etcd_;
};

TEST_F(EtcdStoreTest, ClientSpeaksTheGatewayAndParsesEndpoints) {
  EXPECT_EQ(EtcdClient::unb64(EtcdClient::b64("hvnet/obj/x")), "hvnet/obj/x");
  EXPECT_EQ(EtcdClient::unb64(EtcdClient::b64("ab")), "ab");
  EXPECT_EQ(EtcdClient::prefix_end("a/"), EtcdClient::b64("a0"));
  auto eps = parse_etcd_endpoints("http://127.0.0.1:2379,https://[::1]:2380, ");
  ASSERT_TRUE(eps);
  ASSERT_EQ(eps.value().size(), 2u);
  EXPECT_TRUE(eps.value()[1].tls);
  EXPECT_EQ(eps.value()[1].host, "::1");
  EXPECT_FALSE(parse_etcd_endpoints("127.0.0.1:99999"));
  EtcdClient c({etcd_->endpoint()});
  auto put = c.call("kv/put", {{"key", EtcdClient::b64("k")}, {"value", EtcdClient::b64("v")}});
  ASSERT_TRUE(put) << put.error().to_string();
  auto got = c.call("kv/range", {{"key", EtcdClient::b64("k")}});
  ASSERT_TRUE(got);
  EXPECT_EQ(EtcdClient::unb64(got.value()["kvs"][0]["value"].get<std::string>()), "v");
}

TEST_F(EtcdStoreTest, TwoHostsShareObjectsAndTheLoserOfARaceGetsAConflict) {
  EtcdStore a({etcd_->endpoint()}), b({etcd_->endpoint()});
  model::Database da, dbb;
  ASSERT_TRUE(a.load(da));
  model::Txn t(da);
  t.put("net1", model::Object{"network", {{"name_label", "n"}, {"other_config", {}}}});
  auto c = a.commit(t.changes(), t.reads());
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_EQ(c.value().changes.size(), 1u);
  EXPECT_EQ(c.value().changes[0].op, Op::kAdd);
  const uint64_t rev = c.value().generation;
  ASSERT_TRUE(b.load(dbb));
  ASSERT_NE(dbb.get("net1"), nullptr);
  EXPECT_EQ(dbb.get("net1")->rev, rev);
  EXPECT_EQ(b.generation(), rev);
  // Both hosts read net1 at `rev` and change it: the first wins, the second must re-read.
  Revisions seen = {{"net1", rev}};
  model::Txn ta(da), tb(dbb);
  ta.put("net1", model::Object{"network", {{"name_label", "from-a"}}});
  tb.put("net1", model::Object{"network", {{"name_label", "from-b"}}});
  auto ca = a.commit(ta.changes(), seen);
  ASSERT_TRUE(ca) << ca.error().to_string();
  EXPECT_EQ(ca.value().changes[0].before["name_label"], "n");
  auto cb = b.commit(tb.changes(), seen);
  ASSERT_FALSE(cb);
  EXPECT_EQ(cb.error().code, kStoreConflict);
  EXPECT_EQ(cb.error().params, std::vector<std::string>{"net1"});
  // A write that read something another host changed fails too, though it writes elsewhere.
  model::Txn tc(dbb);
  tc.put("vif1", model::Object{"VIF", {{"network", "net1"}}});
  auto cc = b.commit(tc.changes(), seen);
  ASSERT_FALSE(cc);
  EXPECT_EQ(cc.error().code, kStoreConflict);
  model::Database fresh;
  ASSERT_TRUE(b.load(fresh));
  EXPECT_EQ(fresh.get("net1")->rec["name_label"], "from-a");
  EXPECT_EQ(fresh.get("vif1"), nullptr);  // all or nothing
}

TEST_F(EtcdStoreTest, ChangesSinceGiveLatestStatesAndDeletions) {
  EtcdStore s({etcd_->endpoint()});
  model::Database db;
  ASSERT_TRUE(s.load(db));
  const uint64_t start = s.generation();
  model::Txn t(db);
  t.put("a", model::Object{"network", {{"name_label", "a"}}});
  t.put("b", model::Object{"network", {{"name_label", "b"}}});
  auto c1 = s.commit(t.changes(), {});
  ASSERT_TRUE(c1);
  const uint64_t mid = c1.value().generation;
  model::Txn t2(db);
  t2.erase("b");
  t2.put("a", model::Object{"network", {{"name_label", "a2"}}});
  ASSERT_TRUE(s.commit(t2.changes(), {}));
  auto all = s.changes_since(start);
  ASSERT_TRUE(all && all.value());
  ASSERT_EQ(all.value()->size(), 2u);
  std::map<std::string, Change> by;
  for (auto& ch : *all.value()) by[ch.uuid] = ch;
  EXPECT_EQ(by["a"].op, Op::kAdd);  // created after `start`: an add, in its latest state
  EXPECT_EQ(by["a"].record["name_label"], "a2");
  EXPECT_EQ(by["b"].op, Op::kDel);
  EXPECT_EQ(by["b"].before["name_label"], "b");
  auto later = s.changes_since(mid);
  ASSERT_TRUE(later && later.value());
  for (auto& ch : *later.value()) {
    if (ch.uuid == "a") EXPECT_EQ(ch.op, Op::kMod);
  }
  auto future = s.changes_since(s.generation() + 1000);
  ASSERT_TRUE(future);
  EXPECT_FALSE(future.value());  // another history: resync
}

// Two hosts' Managers write the same object at once: each conflict makes the loser take in the
// winner's write and run again, so no update is lost, and both end with the same view.
TEST_F(EtcdStoreTest, TwoManagersWritingOneObjectLoseNoUpdate) {
  EtcdStore sa({etcd_->endpoint()}), sb({etcd_->endpoint()});
  test::MemSwitch swa, swb;
  auto nics = [] { return std::vector<model::NicInfo>{}; };
  Manager a(sa, &swa.ctl, nics), b(sb, &swb.ctl, nics);
  ASSERT_TRUE(a.start("host-a"));
  auto net = a.write([](model::Txn& t) -> Result<model::json> {
    auto n = model::network_create(t, {{"name_label", "shared"}});
    if (!n) return n.error();
    return model::json(n.value());
  });
  ASSERT_TRUE(net) << net.error().to_string();
  const std::string uuid = net.value();
  ASSERT_TRUE(b.start("host-b"));
  constexpr int kEach = 60;
  auto writer = [&](Manager& m, const std::string& who, std::vector<std::string>* errors) {
    for (int i = 0; i < kEach; ++i) {
      // The Manager retries a conflict itself; one it gives up on is STORE_CONFLICT, which a
      // client retries (what the error is for). Either way nothing written may be lost.
      for (int tries = 0;; ++tries) {
        auto r = m.write([&](model::Txn& t) -> Result<model::json> {
          model::json oc = t.get(uuid)->rec["other_config"];
          oc[who + std::to_string(i)] = "1";
          if (auto st = model::set_field(t, uuid, "other_config", oc); !st) return st.error();
          return model::json();
        });
        if (r) break;
        if (r.error().code != kStoreConflict || tries == 20) {
          errors->push_back(r.error().to_string());
          break;
        }
      }
    }
  };
  std::vector<std::string> ea, eb;
  std::thread ta(writer, std::ref(a), "a", &ea), tb(writer, std::ref(b), "b", &eb);
  ta.join();
  tb.join();
  EXPECT_TRUE(ea.empty()) << ea.front();
  EXPECT_TRUE(eb.empty()) << eb.front();
  ASSERT_TRUE(a.catch_up());
  ASSERT_TRUE(b.catch_up());
  for (Manager* m : {&a, &b}) {
    auto keys =
        m->read([&](const model::Txn& t) { return t.get(uuid)->rec["other_config"].size(); });
    EXPECT_EQ(keys, size_t(2 * kEach));
  }
  EXPECT_EQ(a.generation(), b.generation());
}

TEST_F(EtcdStoreTest, AnUnreachableEtcdIsAClearErrorWithinTheDeadline) {
  EtcdStore s({etcd_->endpoint()});
  model::Database db;
  ASSERT_TRUE(s.load(db));
  etcd_->stop();
  model::Txn t(db);
  t.put("x", model::Object{"network", {{"name_label", "x"}}});
  auto c = s.commit(t.changes(), {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, kEtcdUnavailable);
  EXPECT_NE(c.error().params.at(0).find("127.0.0.1:"), std::string::npos);
}


TEST_F(EtcdStoreTest, WatchReportsEachCommitAndStopsWhenAsked) {
  std::atomic<int> batches{0};
  std::atomic<bool> run{true};
  std::atomic<uint64_t> last{0};
  std::thread watcher([&] {
    EtcdClient w({etcd_->endpoint()});
    Status st = w.watch(
        "/w/", 0,
        [&](uint64_t rev) {
          last = rev;
          return ++batches < 3;
        },
        [&] { return run.load(); }, std::chrono::milliseconds(50));
    EXPECT_TRUE(st) << st.error().to_string();
  });
  EtcdClient c({etcd_->endpoint()});
  // Until the watch is established puts may come before it: keep putting until three are seen.
  uint64_t put_rev = 0;
  for (int i = 0; i < 200 && batches < 3; ++i) {
    auto r = c.call("kv/put", {{"key", EtcdClient::b64("/w/k" + std::to_string(i))},
                               {"value", EtcdClient::b64("v")}});
    ASSERT_TRUE(r);
    put_rev = EtcdClient::u64(r.value()["header"], "revision");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  watcher.join();
  EXPECT_EQ(batches.load(), 3);
  EXPECT_GT(last.load(), 0u);
  EXPECT_LE(last.load(), put_rev);
  // A key outside the prefix is no event; a stop request ends the watch without one.
  std::thread idle([&] {
    EtcdClient w({etcd_->endpoint()});
    Status st = w.watch(
        "/w/", 0, [&](uint64_t) { return true; }, [&] { return run.load(); },
        std::chrono::milliseconds(50));
    EXPECT_TRUE(st);
  });
  ASSERT_TRUE(c.call("kv/put", {{"key", EtcdClient::b64("/x")}, {"value", EtcdClient::b64("v")}}));
  run = false;
  idle.join();
}

}  // namespace
}  // namespace hvnet::store
