#include "api/api.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <future>

#include "api/api_util.h"
#include "api/audit.h"
#include "api/rbac.h"
#include "model/ops.h"
#include "model/records.h"
#include "model/utf8.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers
using model::json;
using model::Txn;

Api::Api(Manager& mgr, Credentials creds, SessionPolicy policy,
         std::function<Clock::time_point()> now, EventHub::Limits event_limits,
         bool threaded_events)
    : mgr_(mgr), creds_(std::move(creds)), policy_(policy), now_(std::move(now)) {
  const std::string host = mgr_.read([](const Txn& t) { return model::local_host(t); });
  tasks_ = std::make_unique<TaskTable>(host);
  events_ = std::make_unique<EventHub>(
      mgr_, [this](const std::string& cls, const std::string& uuid) { return snapshot(cls, uuid); },
      [this](const std::string& cls) {
        return cls == "task" ? tasks_->all().size() : cls == "role" ? model::all_roles().size() : 0;
      },
      event_limits, threaded_events, now_);
  tasks_->set_listener([this](const std::string& uuid, bool added) {
    events_->on_memory_change("task", uuid, added);
  });
  listener_ = mgr_.subscribe([this](const store::Commit& c) { events_->on_commit(c); });
  register_generic();
  register_network();
  register_tunnels();
  register_sriov();
  register_mirrors();
  register_xl();
  register_console();
  register_session();
  register_events();
  register_metrics();
  register_security();
  register_pool();
  register_subjects();
  register_tasks();  // last: Async.* wraps every message registered before
  std::vector<std::string> names = {"session.login_with_password"};
  for (const auto& [name, m] : methods_) names.push_back(name);
  for (const auto& r : model::all_roles())
    permissions_[r.role] = rbac::permissions_of(r.role, names);
}

Api::~Api() {
  mgr_.unsubscribe(listener_);
}

void Api::add(const std::string& name, size_t min_args, size_t max_args, Handler fn) {
  methods_[name] = Method{min_args, max_args, std::move(fn), nullptr};
}

void Api::add(const std::string& name, size_t min_args, size_t max_args,
              std::function<Result<json>(const json& args)> fn) {
  add(name, min_args, max_args,
      Handler([fn = std::move(fn)](const Ctx&, const json& a) { return fn(a); }));
}

void Api::add_async(const std::string& name, size_t min_args, size_t max_args, AsyncHandler fn) {
  methods_[name] = Method{min_args, max_args, nullptr, std::move(fn)};
}

std::optional<json> Api::snapshot(const std::string& cls, const std::string& uuid) {
  if (cls == "task") return tasks_->record(uuid);
  const model::ClassSpec* spec = model::find_class(cls);
  if (!spec) return std::nullopt;
  auto rec = mgr_.read([&](const Txn& t) -> std::optional<json> {
    if (!t.get(uuid, cls)) return std::nullopt;
    return to_wire(*spec, model::full_record(t, uuid));
  });
  if (rec && has_live(cls)) return live(cls, *rec);
  return rec;
}

size_t Api::session_count() {
  std::lock_guard lk(sessions_mu_);
  return sessions_.size();
}

Result<Identity> Api::authenticate(const std::string& user, const std::string& pw,
                                   const Caller& caller) {
  auto refused = [&] {
    return make_error("SESSION_AUTHENTICATION_FAILED", {user, "Authentication failure"});
  };
  if (user == creds_.user) {
    const bool api_password = !creds_.password.empty() && pw.size() == creds_.password.size() &&
                              CRYPTO_memcmp(pw.data(), creds_.password.data(), pw.size()) == 0;
    if (caller.origin == Origin::kLocal || api_password ||
        (auth_ && !pw.empty() && auth_->check_password(user, pw)))
      return Identity{true, "", {}};
    return refused();
  }
  if (!auth_) return refused();
  auto account = auth_->user(user);
  if (!account || pw.empty() || !auth_->check_password(user, pw)) return refused();
  Identity who{false, subject_identifier(*account), {}};
  who.subjects =
      mgr_.read([&](const Txn& t) { return model::subjects_of(t, membership(*account)); });
  if (who.subjects.empty())
    return make_error("SESSION_AUTHORIZATION_FAILED",
                      {user, "the account is not a subject of this pool (xe subject-add)"});
  auto role = role_of(who.subjects);
  if (!role) return role.error();
  if (!role.value())
    return make_error(
        "RBAC_PERMISSION_DENIED",
        {user, "Subject " + user + " (identifier " + who.sid + ") has no roles in this pool"});
  return who;
}

Result<std::optional<model::Role>> Api::role_of(const std::vector<std::string>& subjects) {
  return mgr_.read([&](const Txn& t) -> Result<std::optional<model::Role>> {
    bool any = false;
    std::optional<model::Role> best;
    for (const auto& s : subjects) {
      const auto* o = t.get(s, "subject");
      if (!o) continue;
      any = true;
      for (const auto& r : o->rec["roles"]) {
        auto role = rbac::role_of_uuid(r.get<std::string>());
        if (role && (!best || model::role_holds(*role, *best))) best = role;
      }
    }
    if (!any) return make_error("SESSION_INVALID", {"the session's subject was removed"});
    return best;
  });
}

const std::vector<std::string>& Api::permissions(std::optional<model::Role> role) const {
  return permissions_.at(role.value_or(model::Role::kPoolAdmin));
}

Result<json> Api::login(const json& params, const Caller& caller) {
  auto r = login_here(params, caller);
  if (!r || !pool_) return r;
  // In a pool the session is every member's: a client that fails over keeps it.
  json shared;
  {
    std::lock_guard lk(sessions_mu_);
    auto it = sessions_.find(r.value().get<std::string>());
    if (it == sessions_.end()) return r;
    const Session& s = it->second;
    shared = {{"user", s.user},
              {"uuid", s.uuid},
              {"originator", s.originator},
              {"created", s.created},
              {"superuser", s.who.superuser},
              {"sid", s.who.sid},
              {"subjects", s.who.subjects}};
  }
  pool_->share_session(r.value().get<std::string>(), shared);
  return r;
}

Result<json> Api::login_here(const json& params, const Caller& caller) {
  if (params.size() < 2 || params.size() > 4)
    return make_error("MESSAGE_PARAMETER_COUNT_MISMATCH",
                      {"session.login_with_password", "2", std::to_string(params.size())});
  if (!params[0].is_string() || !params[1].is_string())
    return make_error("SESSION_AUTHENTICATION_FAILED", {"", "Authentication failure"});
  const std::string user = params[0], pw = params[1];
  // Throttling: the user's and the address's counts. The Unix socket is local root, trusted
  // without a password: never throttled, so an attack over TCP cannot lock the admin out.
  std::vector<std::string> keys;
  if (caller.origin == Origin::kNetwork) keys = {"user:" + user, "addr:" + caller.address};
  {
    const auto now = now_();
    std::lock_guard lk(sessions_mu_);
    for (const auto& k : keys) {
      auto it = failures_.find(k);
      if (it != failures_.end() && now < it->second.blocked_until) {
        auto wait = std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now).count();
        return make_error(
            "SESSION_AUTHENTICATION_FAILED",
            {user, "too many failed logins: try again in " + std::to_string(wait) + " s"});
      }
    }
  }
  Result<Identity> who = authenticate(user, pw, caller);  // no lock: PAM may take a while
  const auto now = now_();
  std::lock_guard lk(sessions_mu_);
  if (!who) {
    if (failures_.size() > 100000) failures_.clear();  // bounded memory under a spray of names
    for (const auto& k : keys) {
      Failures& f = failures_[k];
      if (f.count == 0 || now - f.first > policy_.failure_window) f = Failures{0, now, {}};
      if (++f.count > policy_.free_failures) {
        unsigned shift = std::min(f.count - policy_.free_failures - 1, 16u);
        auto backoff =
            std::min<std::chrono::seconds>(std::chrono::seconds(1u << shift), policy_.max_backoff);
        f.blocked_until = now + backoff;
        spdlog::warn("login throttled for {}: {} failures, next attempt in {} s", utf8_escaped(k),
                     f.count, backoff.count());
      }
    }
    return who.error();
  }
  for (const auto& k : keys) failures_.erase(k);
  // Expire idle sessions, then make room under the user's cap (least recently used first).
  std::vector<std::map<std::string, Session>::iterator> mine;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.last_used > policy_.idle_expiry) {
      it = sessions_.erase(it);
      continue;
    }
    if (it->second.user == user) mine.push_back(it);
    ++it;
  }
  if (policy_.max_per_user > 0 && mine.size() >= policy_.max_per_user) {
    std::sort(mine.begin(), mine.end(),
              [](auto a, auto b) { return a->second.last_used < b->second.last_used; });
    for (size_t i = 0; i + policy_.max_per_user <= mine.size(); ++i) sessions_.erase(mine[i]);
  }
  std::string uuid = model::new_uuid();
  std::string ref = std::string(model::kRefPrefix) + uuid;
  std::string originator =
      params.size() > 3 && params[3].is_string() ? params[3].get<std::string>() : std::string();
  sessions_[ref] = Session{user, now, uuid, originator, iso_now(), std::move(who.value())};
  return json(ref);
}

std::optional<Api::Session> Api::session_of(const std::string& ref) {
  const auto now = now_();
  std::unique_lock lk(sessions_mu_);
  auto it = sessions_.find(ref);
  if (it == sessions_.end()) {
    // A session another member of the pool made (the client failed over to this host).
    if (!pool_ || ref.rfind(model::kRefPrefix, 0) != 0 || ref.size() > 64) return std::nullopt;
    lk.unlock();
    auto j = pool_->shared_session(ref);
    if (!j) return std::nullopt;
    try {
      Session s{j->at("user"),    now,
                j->at("uuid"),    j->at("originator"),
                j->at("created"), Identity{j->at("superuser"), j->at("sid"), j->at("subjects")}};
      lk.lock();
      return sessions_.insert_or_assign(ref, std::move(s)).first->second;
    } catch (const std::exception&) {
      return std::nullopt;  // not one of ours
    }
  }
  if (now - it->second.last_used > policy_.idle_expiry) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second;
}

void Api::audit(const std::string& who, const Caller& caller, const std::string& method,
                const json& args, const Result<json>& r) {
  json e = {{"time", iso_now()},
            {"subject", who},
            {"origin", caller.origin == Origin::kLocal ? "local" : caller.address},
            {"call", method},
            {"args", audit_args(method, args)}};
  if (r) {
    e["result"] = "success";
  } else {
    e["result"] = "failure";
    e["error"] = json::array({r.error().code});
    for (const auto& p : r.error().params) e["error"].push_back(p);
  }
  audit_->record(e);
}

void Api::end_session(const std::string& ref) {
  {
    std::lock_guard lk(sessions_mu_);
    sessions_.erase(ref);
  }
  if (pool_) pool_->unshare_session(ref);
  events_->forget_session(ref);
}

Result<json> Api::call(const std::string& method, const json& params, const Caller& caller) {
  std::promise<Result<json>> p;
  auto f = p.get_future();
  call_async(method, params, caller, [&p](Result<json> r) { p.set_value(std::move(r)); });
  return f.get();
}

std::map<std::string, Api::CallCount> Api::call_counts() const {
  std::lock_guard lk(calls_mu_);
  return calls_;
}

void Api::call_async(const std::string& method, const json& params, const Caller& caller,
                     Reply done) {
  // The reply goes out once, whatever happens: a handler that throws after answering is logged.
  auto once = std::make_shared<std::atomic<bool>>(false);
  const std::string counted =
      methods_.count(method) || method == "session.login_with_password" ? method : "unknown";
  Reply reply = [this, done = std::move(done), once, counted,
                 start = Clock::now()](Result<json> r) {
    if (once->exchange(true)) return;
    {
      std::lock_guard lk(calls_mu_);
      CallCount& c = calls_[counted];
      ++c.calls;
      c.errors += !r;
      c.seconds += std::chrono::duration<double>(Clock::now() - start).count();
    }
    done(std::move(r));
  };
  auto fail = [&](const std::string& what) {
    spdlog::error("API call {} failed: {}", utf8_escaped(method), utf8_escaped(what));
    reply(make_error("INTERNAL_ERROR", {utf8_escaped(what)}));
  };
  try {
    dispatch(method, params, caller, reply);
  } catch (const std::exception& e) {
    fail(e.what());
  } catch (...) {
    fail("unknown exception");
  }
}

void Api::dispatch(const std::string& method, const json& params, const Caller& caller,
                   Reply done) {
  if (!params.is_array())
    return done(make_error("MESSAGE_PARAMETER_COUNT_MISMATCH", {method, "?", "0"}));
  if (method == "session.login_with_password") {
    Result<json> r = login(params, caller);
    if (audit_) {
      const std::string user = !params.empty() && params[0].is_string() ? params[0] : "";
      audit(user, caller, method, params, r);
    }
    return done(std::move(r));
  }
  auto it = methods_.find(method);
  if (it == methods_.end()) return done(make_error("MESSAGE_METHOD_UNKNOWN", {method}));
  if (method == "system.listMethods") return done(it->second.fn(Ctx{}, json::array()));
  if (params.empty() || !params[0].is_string())
    return done(make_error("SESSION_INVALID", {params.empty() ? "" : params[0].dump()}));
  const std::string session = params[0];
  auto sess = session_of(session);
  if (!sess) return done(make_error("SESSION_INVALID", {session}));
  const Method& m = it->second;
  size_t n = params.size() - 1;
  if (n < m.min_args || n > m.max_args)
    return done(
        make_error("MESSAGE_PARAMETER_COUNT_MISMATCH",
                   {method, std::to_string(m.max_args + 1), std::to_string(params.size())}));
  json args = json::array();
  for (size_t i = 1; i < params.size(); ++i) args.push_back(params[i]);
  for (size_t i = n; i < m.max_args; ++i) args.push_back(nullptr);  // omitted trailing params
  Ctx ctx{session, sess->user, caller, ""};
  if (audit_ && audited(method)) {
    json after = json::array();
    for (size_t i = 1; i < params.size(); ++i) after.push_back(params[i]);
    done = [this, done = std::move(done), who = sess->user, caller, method,
            after = std::move(after)](Result<json> r) {
      audit(who, caller, method, after, r);
      done(std::move(r));
    };
  }
  // Access control, here for every call: the roles the session's subjects have now.
  if (!sess->who.superuser) {
    auto role = role_of(sess->who.subjects);
    if (!role) {
      end_session(session);
      return done(make_error("SESSION_INVALID", {session}));
    }
    const rbac::Permission need = rbac::permission_of(method, args);
    if (!role.value() || !model::role_holds(*role.value(), need.role))
      return done(
          make_error("RBAC_PERMISSION_DENIED", {need.name, rbac::denied_message(need.role)}));
  }
  if (m.async_fn) return m.async_fn(ctx, args, std::move(done));
  done(m.fn(ctx, args));
}

json Api::live(const std::string& cls, json rec) {
  if (cls == "port_mirror") {  // the copies it sent (nothing while it copies nothing here)
    json st = mgr_.mirror_status(rec.value("uuid", ""));
    json flat = {{"packets", "0"}, {"bytes", "0"}};
    for (const auto& [k, v] : st.items()) flat[k] = std::to_string(v.get<uint64_t>());
    rec["status"] = flat;
    return rec;
  }
  if (cls != "Bond") return rec;
  std::string master = rec.value("master", "");
  std::string device = mgr_.read([&](const Txn& t) -> std::string {
    const auto* m =
        t.get(master.substr(std::min(master.size(), std::string(model::kRefPrefix).size())), "PIF");
    return m ? m->rec["device"].get<std::string>() : "";
  });
  json st = mgr_.port_status(device);
  if (st.empty()) return rec;
  json flat = json::object();
  flat["mode"] = st["mode"];
  flat["active-member"] = st["active_member"];
  flat["lacp-negotiated"] = st["lacp_negotiated"].get<bool>() ? "true" : "false";
  flat["learning-packets-sent"] = std::to_string(st["learning_packets_sent"].get<uint64_t>());
  const json per_vlan = st.value("vlan_active_member", json::object());
  for (const auto& [vid, dev] : per_vlan.items()) flat["vlan" + vid + "-active-member"] = dev;
  for (const auto& m : st["members"]) {
    const std::string d = m["device"].get<std::string>() + ".";
    for (const auto& [k, v] : m.items()) {
      if (k == "device") continue;
      std::string key = k;
      std::replace(key.begin(), key.end(), '_', '-');
      flat[d + key] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  rec["status"] = flat;
  rec["links_up"] = st["links_up"];
  return rec;
}

void Api::register_generic() {
  for (const auto& cls : model::all_classes()) {
    if (cls.memory) continue;  // tasks: register_tasks
    const std::string c = cls.name;
    const model::ClassSpec* spec = &cls;
    add(c + ".get_all", 0, [this, c](const json&) -> Result<json> {
      return mgr_.read([&](const Txn& t) {
        json out = json::array();
        for (const auto& u : t.all_of(c)) out.push_back(ref_of(u));
        return Result<json>(out);
      });
    });
    add(c + ".get_all_records", 0, [this, c, spec](const json&) -> Result<json> {
      auto r = mgr_.read([&](const Txn& t) {
        json out = json::object();
        for (const auto& u : t.all_of(c)) out[ref_of(u)] = to_wire(*spec, model::full_record(t, u));
        return Result<json>(out);
      });
      if (r && has_live(c))
        for (auto& [ref, rec] : r.value().items()) rec = live(c, rec);
      return r;
    });
    add(c + ".get_record", 1, [this, c, spec](const json& a) -> Result<json> {
      auto r = mgr_.read([&](const Txn& t) -> Result<json> {
        auto u = resolve(t, c, a[0]);
        if (!u) return u.error();
        return to_wire(*spec, model::full_record(t, u.value()));
      });
      if (r) return live(c, r.value());
      return r;
    });
    add(c + ".get_by_uuid", 1, [this, c](const json& a) -> Result<json> {
      return mgr_.read([&](const Txn& t) -> Result<json> {
        std::string u = a[0].is_string() ? a[0].get<std::string>() : a[0].dump();
        if (!t.get(u, c)) return make_error("UUID_INVALID", {c, u});
        return json(ref_of(u));
      });
    });
    if (cls.has_name_label()) {
      add(c + ".get_by_name_label", 1, [this, c](const json& a) -> Result<json> {
        return mgr_.read([&](const Txn& t) -> Result<json> {
          json out = json::array();
          for (const auto& u : t.where(c, "name_label", a[0])) out.push_back(ref_of(u));
          return out;
        });
      });
    }
    for (const auto& f : cls.fields) {
      const model::FieldSpec* fs = &f;
      add(c + ".get_" + f.wire, 1, [this, c, spec, fs](const json& a) -> Result<json> {
        auto r = mgr_.read([&](const Txn& t) -> Result<json> {
          auto u = resolve(t, c, a[0]);
          if (!u) return u.error();
          return to_wire(*spec, model::full_record(t, u.value()));
        });
        if (!r) return r;
        return live(c, r.value())[fs->wire];
      });
      if (f.access != model::Access::kRW) continue;
      // Writes of one field: resolve the object, compute the new value from the current one and
      // the call's arguments, store it through the model's rules (MTU range, QoS values...).
      using Edit =
          std::function<Result<json>(const json& cur, const json& args, const std::string& uuid)>;
      auto edit = [this, c, fs](Edit fn) {
        return [this, c, fs, fn](const json& a) -> Result<json> {
          return mgr_.write([&](Txn& t) -> Result<json> {
            auto u = resolve(t, c, a[0]);
            if (!u) return u.error();
            auto v = fn(t.get(u.value())->rec[fs->wire], a, u.value());
            if (!v) return v.error();
            if (auto st = model::set_field(t, u.value(), fs->wire, v.value()); !st)
              return st.error();
            return void_value();
          });
        };
      };
      auto strings = [fs](const json& a, size_t from) -> Status {
        for (size_t i = from; i < a.size(); ++i)
          if (!a[i].is_string()) return make_error("FIELD_TYPE_ERROR", {fs->wire});
        return ok_status();
      };
      add(c + ".set_" + f.wire, 2, edit([fs](const json&, const json& a, const std::string&) {
            return model::coerce(*fs, a[1]);
          }));
      if (f.type == model::FieldType::kStringMap) {
        add(c + ".add_to_" + f.wire, 3,
            edit([c, fs, strings](const json& cur, const json& a,
                                  const std::string& uuid) -> Result<json> {
              if (auto st = strings(a, 1); !st) return st.error();
              const std::string key = a[1];
              if (cur.contains(key))
                return make_error("MAP_DUPLICATE_KEY", {c, fs->wire, uuid, key});
              json m = cur;
              m[key] = a[2];
              return m;
            }));
        add(c + ".remove_from_" + f.wire, 2,
            edit([strings](const json& cur, const json& a, const std::string&) -> Result<json> {
              if (auto st = strings(a, 1); !st) return st.error();
              json m = cur;
              m.erase(a[1].get<std::string>());
              return m;
            }));
      }
      if (f.type == model::FieldType::kStringSet) {
        add(c + ".add_" + f.wire, 2,
            edit([strings](const json& cur, const json& a, const std::string&) -> Result<json> {
              if (auto st = strings(a, 1); !st) return st.error();
              json set = cur;
              if (std::find(set.begin(), set.end(), a[1]) == set.end()) set.push_back(a[1]);
              return set;
            }));
        add(c + ".remove_" + f.wire, 2,
            edit([strings](const json& cur, const json& a, const std::string&) -> Result<json> {
              if (auto st = strings(a, 1); !st) return st.error();
              json set = json::array();
              for (const auto& e : cur)
                if (e != a[1]) set.push_back(e);
              return set;
            }));
      }
    }
  }
}

std::function<Result<json>(const json&)> Api::on_object(
    const std::string& cls, std::function<Status(Txn&, const std::string&)> op) {
  return [this, cls, op = std::move(op)](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto u = resolve(t, cls, a[0]);
      if (!u) return u.error();
      if (auto st = op(t, u.value()); !st) return st.error();
      return void_value();
    });
  };
}

void Api::register_network() {
  auto create = [this](std::function<Result<std::string>(Txn&, const json&)> op) {
    return [this, op](const json& a) -> Result<json> {
      return mgr_.write([&](Txn& t) -> Result<json> {
        auto u = op(t, a[0]);
        if (!u) return u.error();
        return json(ref_of(u.value()));
      });
    };
  };

  // A write on one object with one string argument: resolve, check the string, run, void.
  auto on_str = [this](const std::string& cls, const char* arg,
                       std::function<Status(Txn&, const std::string&, const std::string&)> op) {
    return [this, cls, arg, op](const json& a) -> Result<json> {
      return mgr_.write([&](Txn& t) -> Result<json> {
        auto u = resolve(t, cls, a[0]);
        if (!u) return u.error();
        auto v = arg_string(a, 1, arg);
        if (!v) return v.error();
        if (auto st = op(t, u.value(), v.value()); !st) return st.error();
        return void_value();
      });
    };
  };

  add("network.create", 1, create(model::network_create));
  add("network.destroy", 1, on_object("network", model::network_destroy));
  add("network.add_purpose", 2, on_str("network", "purpose", model::network_add_purpose));
  add("network.remove_purpose", 2, on_str("network", "purpose", model::network_remove_purpose));

  add("PIF.scan", 1, [this](const json& a) -> Result<json> {
    auto host = mgr_.read([&](const Txn& t) { return resolve(t, "host", a[0]); });
    if (!host) return host.error();
    // Another member's NICs: it scans them itself (PoolMember::serve_requests) and the call
    // waits for its answer.
    if (pool_ && host.value() != mgr_.local_host()) {
      auto st = pool_->scan_on(host.value());
      if (!st) return st.error();
      return void_value();
    }
    auto nics = mgr_.scan_nics();
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto h = resolve(t, "host", a[0]);
      if (!h) return h.error();
      auto r = model::pif_scan(t, h.value(), nics);
      if (!r) return r.error();
      return void_value();
    });
  });
  add("PIF.plug", 1, on_object("PIF", model::pif_plug));
  add("PIF.unplug", 1, on_object("PIF", model::pif_unplug));
  add("PIF.forget", 1, on_object("PIF", model::pif_forget));

  auto vlan_create = [this](const json& a, bool pool) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto tag = arg_int(a, pool ? 2 : 1, "VLAN");
      if (!tag) return tag.error();
      auto net = resolve(t, "network", a[pool ? 1 : 2]);
      if (!net) return net.error();
      if (pool) {
        auto dev = arg_string(a, 0, "device");
        if (!dev) return dev.error();
        auto pifs = model::pool_create_vlan(t, dev.value(), net.value(), tag.value());
        if (!pifs) return pifs.error();
        json out = json::array();
        for (const auto& p : pifs.value()) out.push_back(ref_of(p));
        return out;
      }
      auto pif = resolve(t, "PIF", a[0]);
      if (!pif) return pif.error();
      auto v = model::vlan_create(t, pif.value(), tag.value(), net.value());
      if (!v) return v.error();
      return json(ref_of(v.value()));
    });
  };
  add("VLAN.create", 3, [vlan_create](const json& a) { return vlan_create(a, false); });
  add("VLAN.destroy", 1, on_object("VLAN", model::vlan_destroy));
  add("pool.create_VLAN", 3, [vlan_create](const json& a) { return vlan_create(a, true); });
  add("pool.create_VLAN_from_PIF", 3, [this, vlan_create](const json& a) -> Result<json> {
    // (pif, network, VLAN): the same as create_VLAN on the PIF's device.
    auto dev = mgr_.read([&](const Txn& t) -> Result<json> {
      auto pif = resolve(t, "PIF", a[0]);
      if (!pif) return pif.error();
      return t.get(pif.value())->rec["device"];
    });
    if (!dev) return dev.error();
    return vlan_create(json::array({dev.value(), a[1], a[2]}), true);
  });

  add("Bond.create", 3, 5, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto net = resolve(t, "network", a[0]);
      if (!net) return net.error();
      if (!a[1].is_array()) return make_error("FIELD_TYPE_ERROR", {"members"});
      std::vector<std::string> members;
      for (const auto& m : a[1]) {
        auto u = resolve(t, "PIF", m);
        if (!u) return u.error();
        members.push_back(u.value());
      }
      auto mac = a[2].is_string() ? a[2].get<std::string>() : std::string();
      auto mode = a[3].is_string() ? a[3].get<std::string>() : std::string("balance-slb");
      if (!a[4].is_null() && !a[4].is_object())
        return make_error("FIELD_TYPE_ERROR", {"properties"});
      json props = a[4].is_null() ? json::object() : a[4];
      auto b = model::pool_bond_create(t, net.value(), members, mac, mode, props);
      if (!b) return b.error();
      return json(ref_of(b.value()));
    });
  });
  add("Bond.destroy", 1, on_object("Bond", model::bond_destroy));
  add("Bond.set_mode", 2, on_str("Bond", "mode", model::bond_set_mode));
  add("Bond.set_property", 3, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto b = resolve(t, "Bond", a[0]);
      if (!b) return b.error();
      auto k = arg_string(a, 1, "name");
      if (!k) return k.error();
      auto v = arg_string(a, 2, "value");
      if (!v) return v.error();
      if (auto st = model::bond_set_property(t, b.value(), k.value(), v.value()); !st)
        return st.error();
      return void_value();
    });
  });

  add("VIF.set_locking_mode", 2, on_str("VIF", "locking_mode", model::vif_set_locking_mode));
  for (std::string fam : {"ipv4", "ipv6"}) {
    add("VIF.set_" + fam + "_allowed", 2, [this, fam](const json& a) -> Result<json> {
      return mgr_.write([&](Txn& t) -> Result<json> {
        auto v = resolve(t, "VIF", a[0]);
        if (!v) return v.error();
        if (auto st = model::vif_set_allowed(t, v.value(), fam, a[1]); !st) return st.error();
        return void_value();
      });
    });
    const std::string field = fam + "_allowed";
    add("VIF.add_" + field, 2,
        on_str("VIF", "address", [fam](Txn& t, const std::string& v, const std::string& a) {
          return model::vif_add_allowed(t, v, fam, a);
        }));
    add("VIF.remove_" + field, 2,
        on_str("VIF", "address", [fam](Txn& t, const std::string& v, const std::string& a) {
          return model::vif_remove_allowed(t, v, fam, a);
        }));
  }
  add("network.set_default_locking_mode", 2,
      on_str("network", "default_locking_mode", model::network_set_default_locking_mode));

  add("PIF.reconfigure_ip", 5, 6, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto p = resolve(t, "PIF", a[0]);
      if (!p) return p.error();
      std::string s[5];
      const char* names[5] = {"mode", "IP", "netmask", "gateway", "DNS"};
      for (int i = 0; i < 5; ++i) {
        if (a[i + 1].is_null()) continue;  // DNS may be omitted
        auto v = arg_string(a, size_t(i + 1), names[i]);
        if (!v) return v.error();
        s[i] = v.value();
      }
      if (auto st = model::pif_reconfigure_ip(t, p.value(), s[0], s[1], s[2], s[3], s[4]); !st)
        return st.error();
      return void_value();
    });
  });
  add("PIF.reconfigure_ipv6", 4, 5, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto p = resolve(t, "PIF", a[0]);
      if (!p) return p.error();
      std::string s[4];
      const char* names[4] = {"mode", "IPv6", "gateway", "DNS"};
      for (int i = 0; i < 4; ++i) {
        if (a[i + 1].is_null()) continue;  // DNS may be omitted
        auto v = arg_string(a, size_t(i + 1), names[i]);
        if (!v) return v.error();
        s[i] = v.value();
      }
      if (auto st = model::pif_reconfigure_ipv6(t, p.value(), s[0], s[1], s[2], s[3]); !st)
        return st.error();
      return void_value();
    });
  });
  add("host.management_reconfigure", 1, on_object("PIF", model::host_management_reconfigure));
  add("host.management_disable", 0, [this](const json&) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      if (auto st = model::host_management_disable(t, model::local_host(t)); !st) return st.error();
      return void_value();
    });
  });
  add("pool.management_reconfigure", 1, on_object("network", model::pool_management_reconfigure));
  add("host.set_hostname_live", 2, on_str("host", "hostname", model::host_set_hostname));
  add("host.get_management_interface", 1, [this](const json& a) -> Result<json> {
    return mgr_.read([&](const Txn& t) -> Result<json> {
      auto h = resolve(t, "host", a[0]);
      if (!h) return h.error();
      for (const auto& p : t.where("PIF", "host", h.value()))
        if (t.get(p)->rec["management"].get<bool>()) return json(ref_of(p));
      return json(ref_of(""));
    });
  });
  // hvnet: keep a management change whose gateway did not answer (before the rollback deadline).
  add("host.management_confirm", 0, [this](const json&) -> Result<json> {
    mgr_.confirm_management();
    return void_value();
  });

  add("VM.create", 1, create(model::vm_create));
  add("VM.destroy", 1, on_object("VM", model::vm_destroy));
  add("VIF.create", 1, create(model::vif_create));
  add("VIF.destroy", 1, on_object("VIF", model::vif_destroy));
  add("VIF.plug", 1, on_object("VIF", model::vif_plug));
  add("VIF.unplug", 1, on_object("VIF", model::vif_unplug));
}

}  // namespace hvnet::api
