// EventHub: XenAPI's event calls on the change feed. event.from(classes, token, timeout) answers
// with every object of the subscribed classes changed since the token, once each, with its
// current record ("del" with none); when nothing has changed it waits, up to the timeout, without
// holding any thread: the call's reply callback is kept with the waiter and invoked later by the
// hub's one thread (a commit arrived, or the deadline passed). The legacy event.register / next /
// unregister work the same way per session, with a bounded backlog (EVENTS_LOST beyond it).
//
// The empty token begins, as in xapi: every stored object of the subscribed classes as an "add",
// and the token of that moment. Tokens are xapi's shape: "%020u,%020u". The first is the store's generation, which persists:
// after a restart an old token still gets every change since it, from the store's change log, or
// EVENTS_LOST when the log no longer reaches back (resync: read all records again and carry on
// with the token of the reply). Never a silent gap. The second counts changes of the objects that
// live in memory only (tasks), per process: a token from before a restart starts it from zero,
// that is every task there is (the tasks it knew died with the old process).
//
// A change also marks the objects its record refers to (and referred to before), since their
// derived fields (network.VIFs, PIF.VLAN_slave_of…) changed with it: a client's cache built from
// events equals get_all_records.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "control/manager.h"
#include "model/result.h"
#include "store/store.h"

namespace hvnet::api {

using json = nlohmann::json;
using Reply = std::function<void(Result<json>)>;

class EventHub {
 public:
  using Clock = std::chrono::steady_clock;
  // The current wire record of an object (nullopt: it no longer exists).
  using Snapshot =
      std::function<std::optional<json>(const std::string& cls, const std::string& uuid)>;
  // How many objects of an in-memory class (tasks) exist, for valid_ref_counts.
  using MemoryCount = std::function<size_t(const std::string& cls)>;
  struct Limits {
    size_t ring = 100000;            // recent changes kept in memory (older: from the store)
    size_t max_waiters = 10000;      // long-polling calls at once (more: refused at once)
    size_t session_backlog = 10000;  // event.next: objects pending before EVENTS_LOST
    std::chrono::seconds next_timeout{600};  // event.next returns [] after this
  };

  // `threaded`: run the delivery thread (tests drive pump() themselves instead).
  EventHub(Manager& mgr, Snapshot snapshot, MemoryCount memory_count, Limits limits,
           bool threaded = true, std::function<Clock::time_point()> now = Clock::now);
  ~EventHub();

  // The change feed's listener (called under the Manager's write lock: only queues).
  void on_commit(const store::Commit& c);
  // A change of an in-memory object (a task): added, modified or gone (the snapshot says which).
  void on_memory_change(const std::string& cls, const std::string& uuid, bool added);
  // The token of now (event.inject's answer).
  std::string current_token();

  // event.from. `done` is called exactly once: at once or later from the hub's thread.
  void from(const json& classes, const json& token, const json& timeout, Reply done);
  // event.register / unregister / next for `session`.
  Result<json> register_classes(const std::string& session, const json& classes);
  Result<json> unregister_classes(const std::string& session, const json& classes);
  void next(const std::string& session, Reply done);
  void forget_session(const std::string& session);

  static std::string token_of(uint64_t generation, uint64_t memory_generation = 0);
  // Delivers what is due: waiters with changes, waiters past their deadline. The thread calls it;
  // tests call it with an injected clock. Returns how many waiters it completed.
  size_t pump();
  size_t waiting();

 private:
  struct Mark {
    uint64_t gen;
    std::string cls, lower_cls, uuid;  // (lowercase once here, not at every match)
    bool added;
  };
  // A subscription: "*", lowercase class names, or lowercase class + ref.
  struct Sub {
    bool all = false;
    std::set<std::string> classes;
    std::set<std::pair<std::string, std::string>> objects;  // (class, uuid)
    bool matches(const std::string& lower_cls, const std::string& uuid) const;
  };
  struct Touched {
    std::string cls;
    uint64_t gen;
    bool added;
  };
  struct Waiter {
    Sub sub;
    uint64_t since, msince;
    Clock::time_point deadline;
    Reply done;
    std::string session;  // "" for event.from
  };

  static Result<Sub> parse_sub(const json& classes);
  // Objects changed after `since` that `sub` wants, from the ring (nullopt: the ring does not
  // reach back that far). Caller holds mu_.
  std::optional<std::map<std::string, Touched>> touched_since(uint64_t since, uint64_t msince,
                                                              const Sub& sub) const;
  // The same from the store (after a restart, or for an old token); nullopt: lost.
  Result<std::optional<std::map<std::string, Touched>>> touched_from_store(uint64_t since,
                                                                           const Sub& sub);
  json events_of(const std::map<std::string, Touched>& touched);
  json from_result(const Sub& sub, const std::map<std::string, Touched>& touched, uint64_t upto,
                   uint64_t mupto);
  void mark(std::deque<Mark>& ring, uint64_t& floor, uint64_t gen, const std::string& cls,
            const std::string& uuid, bool added);
  void run();

  Manager& mgr_;
  Snapshot snapshot_;
  MemoryCount memory_count_;
  Limits lim_;
  std::function<Clock::time_point()> now_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Mark> ring_, mem_ring_;    // store changes; in-memory objects' changes
  uint64_t floor_ = 0, mem_floor_ = 0;  // each ring holds every change after its floor
  uint64_t latest_ = 0, mem_latest_ = 0;
  bool dirty_ = false;  // changes since the last pump
  std::vector<Waiter> waiters_;
  struct Registration {
    Sub sub;
    uint64_t cursor, mcursor;
    bool registered = false;
  };
  std::map<std::string, Registration> sessions_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hvnet::api
