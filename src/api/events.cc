#include "api/events.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "api/api_util.h"
#include "model/schema.h"

namespace hvnet::api {

using detail::iso_now;
using detail::lower;
using detail::uuid_of_ref;

namespace {

Result<double> timeout_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    try {
      return std::stod(v.get<std::string>());
    } catch (...) {
    }
  }
  if (v.is_null()) return 0.0;
  return make_error("FIELD_TYPE_ERROR", {"timeout"});
}

}  // namespace

bool EventHub::Sub::matches(const std::string& cls, const std::string& uuid) const {
  return all || classes.count(cls) || objects.count({cls, uuid});
}

EventHub::EventHub(Manager& mgr, Snapshot snapshot, MemoryCount memory_count, Limits limits,
                   bool threaded, std::function<Clock::time_point()> now)
    : mgr_(mgr),
      snapshot_(std::move(snapshot)),
      memory_count_(std::move(memory_count)),
      lim_(limits),
      now_(std::move(now)) {
  latest_ = floor_ = mgr_.generation();
  if (threaded) thread_ = std::thread([this] { run(); });
}

EventHub::~EventHub() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Whoever still waits gets an empty answer rather than none.
  std::vector<Waiter> left;
  {
    std::lock_guard lk(mu_);
    left.swap(waiters_);
  }
  for (auto& w : left) w.done(make_error("INTERNAL_ERROR", {"server stopping"}));
}

std::string EventHub::token_of(uint64_t generation, uint64_t memory_generation) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%020" PRIu64 ",%020" PRIu64, generation, memory_generation);
  return buf;
}

std::string EventHub::current_token() {
  std::lock_guard lk(mu_);
  return token_of(latest_, mem_latest_);
}

void EventHub::on_memory_change(const std::string& cls, const std::string& uuid, bool added) {
  {
    std::lock_guard lk(mu_);
    ++mem_latest_;
    mark(mem_ring_, mem_floor_, mem_latest_, cls, uuid, added);
    dirty_ = true;
  }
  cv_.notify_all();
}

Result<EventHub::Sub> EventHub::parse_sub(const json& classes) {
  if (!classes.is_array()) return make_error("EVENT_SUBSCRIPTION_PARSE_FAILURE", {classes.dump()});
  Sub sub;
  for (const auto& c : classes) {
    if (!c.is_string() || c.get<std::string>().empty())
      return make_error("EVENT_SUBSCRIPTION_PARSE_FAILURE", {c.dump()});
    const std::string s = c.get<std::string>();
    if (s == "*") {
      sub.all = true;
      continue;
    }
    auto slash = s.find('/');
    if (slash == std::string::npos) {
      sub.classes.insert(lower(s));
      continue;
    }
    std::string uuid = uuid_of_ref(s.substr(slash + 1));
    if (slash == 0 || uuid.empty()) return make_error("EVENT_SUBSCRIPTION_PARSE_FAILURE", {s});
    sub.objects.insert({lower(s.substr(0, slash)), uuid});
  }
  return sub;
}

void EventHub::mark(std::deque<Mark>& ring, uint64_t& floor, uint64_t gen, const std::string& cls,
                    const std::string& uuid, bool added) {
  ring.push_back(Mark{gen, cls, lower(cls), uuid, added});
  while (ring.size() > lim_.ring) {
    floor = std::max(floor, ring.front().gen);
    ring.pop_front();
  }
}

namespace {
// The objects a record refers to (their reverse fields change with it).
template <typename F>
void for_each_reference(const std::string& cls, const json& rec, F&& fn) {
  const model::ClassSpec* spec = model::find_class(cls);
  if (!spec || !rec.is_object()) return;
  for (const auto& f : spec->fields) {
    if (f.type != model::FieldType::kRef || f.derived) continue;
    auto it = rec.find(f.wire);
    if (it != rec.end() && it->is_string() && !it->get<std::string>().empty())
      fn(f.ref_class, it->get<std::string>());
  }
}

// What one change touches for its watchers: the object itself (added or not), and every object
// its record refers to, now or before, as modified.
template <typename F>
void for_each_touched(const store::Change& ch, F&& fn) {
  fn(ch.cls, ch.uuid, ch.op == store::Op::kAdd);
  auto related = [&](const std::string& cls, const std::string& uuid) { fn(cls, uuid, false); };
  for_each_reference(ch.cls, ch.record, related);
  for_each_reference(ch.cls, ch.before, related);
}
}  // namespace

void EventHub::on_commit(const store::Commit& c) {
  if (c.changes.empty()) return;
  {
    std::lock_guard lk(mu_);
    for (const auto& ch : c.changes)
      for_each_touched(ch, [&](const std::string& cls, const std::string& uuid, bool added) {
        mark(ring_, floor_, c.generation, cls, uuid, added);
      });
    latest_ = c.generation;
    dirty_ = true;
  }
  cv_.notify_all();
}

std::optional<std::map<std::string, EventHub::Touched>> EventHub::touched_since(
    uint64_t since, uint64_t msince, const Sub& sub) const {
  if (since < floor_ || msince < mem_floor_) return std::nullopt;
  std::map<std::string, Touched> out;
  auto collect = [&](const std::deque<Mark>& ring, uint64_t from) {
    for (auto it = ring.rbegin(); it != ring.rend() && it->gen > from; ++it) {
      if (!sub.matches(it->lower_cls, it->uuid)) continue;
      auto [t, fresh] = out.try_emplace(it->uuid, Touched{it->cls, it->gen, it->added});
      if (!fresh) t->second.added |= it->added;
    }
  };
  collect(ring_, since);
  collect(mem_ring_, msince);
  return out;
}

Result<std::optional<std::map<std::string, EventHub::Touched>>> EventHub::touched_from_store(
    uint64_t since, const Sub& sub) {
  auto changes = mgr_.changes_since(since);
  if (!changes) return changes.error();
  if (!changes.value()) return std::optional<std::map<std::string, Touched>>();
  const uint64_t upto = mgr_.generation();
  std::map<std::string, Touched> out;
  auto touch = [&](const std::string& cls, const std::string& uuid, bool added) {
    if (!sub.matches(lower(cls), uuid)) return;
    auto [t, fresh] = out.try_emplace(uuid, Touched{cls, upto, added});
    if (!fresh) t->second.added |= added;
  };
  for (const auto& ch : *changes.value()) for_each_touched(ch, touch);
  return std::optional<std::map<std::string, Touched>>(std::move(out));
}

json EventHub::events_of(const std::map<std::string, Touched>& touched) {
  json events = json::array();
  const std::string ts = iso_now();
  for (const auto& [uuid, t] : touched) {
    json ev = {{"id", std::to_string(t.gen)},
               {"timestamp", ts},
               {"class", lower(t.cls)},
               {"ref", std::string(model::kRefPrefix) + uuid}};
    if (auto snap = snapshot_(t.cls, uuid)) {
      ev["operation"] = t.added ? "add" : "mod";
      ev["snapshot"] = std::move(*snap);
    } else {
      ev["operation"] = "del";
    }
    events.push_back(std::move(ev));
  }
  return events;
}

json EventHub::from_result(const Sub& sub, const std::map<std::string, Touched>& touched,
                           uint64_t upto, uint64_t mupto) {
  json counts = json::object();
  mgr_.read([&](const model::Txn& t) {
    for (const auto& c : model::all_classes())
      if (sub.all || sub.classes.count(lower(c.name)))
        counts[lower(c.name)] = c.memory ? memory_count_(c.name) : t.base().of_class(c.name).size();
    return 0;
  });
  return json{{"events", events_of(touched)},
              {"valid_ref_counts", counts},
              {"token", token_of(upto, mupto)}};
}

void EventHub::from(const json& classes, const json& token, const json& timeout, Reply done) {
  auto sub = parse_sub(classes);
  if (!sub) return done(sub.error());
  if (!token.is_string()) return done(make_error("EVENT_FROM_TOKEN_PARSE_FAILURE", {token.dump()}));
  const std::string tok = token;
  uint64_t since = 0, msince = 0;
  if (!tok.empty()) {
    auto number = [](const std::string& s, uint64_t* v) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
      return !s.empty() && ec == std::errc() && p == s.data() + s.size();
    };
    const auto comma = tok.find(',');
    if (!number(tok.substr(0, comma), &since) ||
        (comma != std::string::npos && !number(tok.substr(comma + 1), &msince)))
      return done(make_error("EVENT_FROM_TOKEN_PARSE_FAILURE", {tok}));
  }
  auto wait = timeout_of(timeout);
  if (!wait) return done(wait.error());
  std::unique_lock lk(mu_);
  if (tok.empty()) {  // xapi's way to begin: every object there is now, and the token of now
    const uint64_t upto = latest_, mupto = mem_latest_;
    lk.unlock();
    std::map<std::string, Touched> all;
    mgr_.read([&](const model::Txn& t) {
      for (const auto& c : model::all_classes()) {
        if (c.memory) continue;
        for (const auto& uuid : t.base().of_class(c.name))
          if (sub->matches(lower(c.name), uuid)) all.emplace(uuid, Touched{c.name, upto, true});
      }
      return 0;
    });
    return done(from_result(sub.value(), all, upto, mupto));
  }
  if (since > latest_) {  // a token of another history (another store)
    lk.unlock();
    return done(make_error("EVENTS_LOST", {tok}));
  }
  if (msince > mem_latest_) msince = 0;  // from before a restart: every task there is now
  auto touched = touched_since(since, msince, sub.value());
  const uint64_t upto = latest_, mupto = mem_latest_;
  if (!touched) {  // older than the ring: the store's log, or lost
    lk.unlock();
    auto stored = touched_from_store(since, sub.value());
    if (!stored) return done(stored.error());
    if (!stored.value()) return done(make_error("EVENTS_LOST", {tok}));
    return done(from_result(sub.value(), *stored.value(), mgr_.generation(), mupto));
  }
  if (!touched->empty() || wait.value() <= 0 || waiters_.size() >= lim_.max_waiters) {
    lk.unlock();
    return done(from_result(sub.value(), *touched, upto, mupto));
  }
  const auto ms = std::chrono::milliseconds(int64_t(std::min(wait.value(), 86400.0) * 1000));
  waiters_.push_back(Waiter{std::move(sub.value()), upto, mupto, now_() + ms, std::move(done), ""});
  lk.unlock();
  cv_.notify_all();
}

Result<json> EventHub::register_classes(const std::string& session, const json& classes) {
  auto sub = parse_sub(classes);
  if (!sub) return sub.error();
  std::lock_guard lk(mu_);
  Registration& r = sessions_[session];
  if (!r.registered) {
    r.registered = true;
    r.cursor = latest_;
    r.mcursor = mem_latest_;
  }
  r.sub.all |= sub->all;
  r.sub.classes.insert(sub->classes.begin(), sub->classes.end());
  r.sub.objects.insert(sub->objects.begin(), sub->objects.end());
  return json("");
}

Result<json> EventHub::unregister_classes(const std::string& session, const json& classes) {
  auto sub = parse_sub(classes);
  if (!sub) return sub.error();
  std::lock_guard lk(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return json("");
  if (sub->all) it->second.sub = Sub{};
  for (const auto& c : sub->classes) it->second.sub.classes.erase(c);
  for (const auto& o : sub->objects) it->second.sub.objects.erase(o);
  return json("");
}

void EventHub::forget_session(const std::string& session) {
  std::lock_guard lk(mu_);
  sessions_.erase(session);
}

void EventHub::next(const std::string& session, Reply done) {
  std::unique_lock lk(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end() || !it->second.registered) {
    lk.unlock();
    return done(make_error("SESSION_NOT_REGISTERED", {session}));
  }
  Registration& r = it->second;
  auto touched = touched_since(r.cursor, r.mcursor, r.sub);
  const bool lost = !touched || touched->size() > lim_.session_backlog;
  if (lost || !touched->empty() || waiters_.size() >= lim_.max_waiters) {
    // (lost: the backlog is dropped; the client re-reads its objects and carries on)
    r.cursor = latest_;
    r.mcursor = mem_latest_;
    lk.unlock();
    if (lost) return done(make_error("EVENTS_LOST"));
    return done(events_of(*touched));
  }
  waiters_.push_back(
      Waiter{r.sub, r.cursor, r.mcursor, now_() + lim_.next_timeout, std::move(done), session});
  lk.unlock();
  cv_.notify_all();
}

size_t EventHub::waiting() {
  std::lock_guard lk(mu_);
  return waiters_.size();
}

size_t EventHub::pump() {
  struct Ready {
    Waiter w;
    std::map<std::string, Touched> touched;
    uint64_t upto, mupto;
    bool lost;
  };
  std::vector<Ready> ready;
  {
    std::lock_guard lk(mu_);
    const auto now = now_();
    const bool dirty = dirty_;
    dirty_ = false;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      std::optional<std::map<std::string, Touched>> t;
      if (dirty) t = touched_since(it->since, it->msince, it->sub);
      const bool lost = dirty && !t;
      if (lost || (t && !t->empty()) || now >= it->deadline) {
        if (!it->session.empty()) {
          if (auto s = sessions_.find(it->session); s != sessions_.end()) {
            s->second.cursor = latest_;
            s->second.mcursor = mem_latest_;
          }
        }
        ready.push_back(Ready{std::move(*it), t ? std::move(*t) : std::map<std::string, Touched>{},
                              latest_, mem_latest_, lost});
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& r : ready) {
    try {
      if (r.lost)
        r.w.done(make_error("EVENTS_LOST"));
      else if (r.w.session.empty())
        r.w.done(from_result(r.w.sub, r.touched, r.upto, r.mupto));
      else
        r.w.done(events_of(r.touched));
    } catch (const std::exception& e) {
      spdlog::error("event delivery failed: {}", e.what());
    }
  }
  return ready.size();
}

void EventHub::run() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    auto next = Clock::time_point::max();
    for (const auto& w : waiters_) next = std::min(next, w.deadline);
    if (!dirty_) {
      if (next == Clock::time_point::max())
        cv_.wait(lk);
      else
        cv_.wait_until(lk, next);
    }
    if (stop_) break;
    lk.unlock();
    pump();
    lk.lock();
  }
}

}  // namespace hvnet::api
