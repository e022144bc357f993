#include "model/xl_vif.h"

#include <arpa/inet.h>

#include <cctype>
#include <set>
#include <tuple>

#include "model/utf8.h"
#include "packet/mac.h"

namespace hvnet::model {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Error bad(const std::string& what, std::string_view text) {
  return Error{"INVALID_VALUE", {what, std::string(text)}};
}

bool is_name(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  return true;
}

// Digits then the rest; nullopt without digits or past 10^12.
std::optional<std::pair<uint64_t, std::string_view>> number(std::string_view s) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    if (i >= 12) return std::nullopt;
    v = v * 10 + uint64_t(s[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  return std::pair{v, s.substr(i)};
}

Result<XlVif> parse_one(std::string_view spec) {
  XlVif v;
  std::set<std::string> seen;
  size_t at = 0;
  while (at <= spec.size()) {
    size_t comma = spec.find(',', at);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view item = trim(spec.substr(at, comma - at));
    at = comma + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return bad("vif", item);
    const std::string key(trim(item.substr(0, eq)));
    const std::string_view value = trim(item.substr(eq + 1));
    if (!seen.insert(key).second) return bad("vif", key + " given twice");
    if (key == "mac") {
      auto m = MacAddr::parse(value);
      if (!m || m->is_multicast() || m->is_zero())
        return Error{"MAC_INVALID", {std::string(value)}};
      v.mac = m->to_string();
    } else if (key == "bridge") {
      if (!is_name(value, 15)) return bad("bridge", value);
      v.bridge = value;
    } else if (key == "ip") {
      size_t i = 0;
      while (i < value.size()) {
        size_t sp = value.find(' ', i);
        if (sp == std::string_view::npos) sp = value.size();
        const std::string a(value.substr(i, sp - i));
        i = sp + 1;
        if (a.empty()) continue;
        in_addr addr{};
        if (inet_pton(AF_INET, a.c_str(), &addr) != 1 || v.ips.size() >= 16) return bad("ip", a);
        v.ips.push_back(a);
      }
      if (v.ips.empty()) return bad("ip", value);
    } else if (key == "script") {
      std::string_view base =
          value.substr(value.rfind('/') == std::string_view::npos ? 0 : value.rfind('/') + 1);
      if (base == "vif-bridge")
        v.script = "bridge";
      else if (base == "vif-route")
        v.script = "route";
      else if (base == "vif-nat")
        v.script = "nat";
      else
        return bad("script", value);
    } else if (key == "vifname") {
      if (!is_name(value, 15)) return bad("vifname", value);
      v.vifname = value;
    } else if (key == "rate") {
      auto r = parse_xl_rate(value);
      if (!r) return r.error();
      std::tie(v.rate_kbps, v.rate_interval_us) = r.value();
    } else if (key == "model") {
      if (!is_name(value, 32)) return bad("model", value);
      v.model = value;
    } else if (key == "type") {
      if (value != "ioemu" && value != "vif") return bad("type", value);
      v.type = value;
    } else {
      return bad("vif", key);
    }
  }
  return v;
}

// A quoted string at `s[i]` ('...' or "..."): its contents, `i` moved past it.
std::optional<std::string_view> quoted(std::string_view s, size_t& i) {
  if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return std::nullopt;
  const char q = s[i];
  const size_t end = s.find(q, i + 1);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view out = s.substr(i + 1, end - i - 1);
  i = end + 1;
  return out;
}

void skip_space(std::string_view s, size_t& i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
}

}  // namespace

Result<std::pair<uint64_t, uint64_t>> parse_xl_rate(std::string_view rate) {
  const size_t at = rate.find('@');
  const std::string_view amount = rate.substr(0, at);
  auto n = number(amount);
  if (!n) return bad("rate", rate);
  std::string_view unit = n->second;
  uint64_t scale = 1;
  if (!unit.empty() && (unit[0] == 'K' || unit[0] == 'M' || unit[0] == 'G')) {
    scale = unit[0] == 'K' ? 1000 : unit[0] == 'M' ? 1000000 : 1000000000;
    unit.remove_prefix(1);
  }
  if (n->first > UINT64_MAX / scale) return bad("rate", rate);
  uint64_t bytes_per_s = 0;
  if (unit == "B/s")
    bytes_per_s = n->first * scale;
  else if (unit == "b/s")
    bytes_per_s = n->first * scale / 8;
  else
    return bad("rate", rate);
  const uint64_t kbps = (bytes_per_s + 999) / 1000;
  if (kbps == 0 || kbps > 100000000) return bad("rate", rate);
  uint64_t interval_us = 50000;  // xl's default
  if (at != std::string_view::npos) {
    auto i = number(rate.substr(at + 1));
    if (!i) return bad("rate", rate);
    const std::string_view u = i->second;
    if (u == "s" || u.empty())
      interval_us = i->first * 1000000;
    else if (u == "ms")
      interval_us = i->first * 1000;
    else if (u == "us")
      interval_us = i->first;
    else
      return bad("rate", rate);
    if (interval_us < 100 || interval_us > 10000000) return bad("rate", rate);
  }
  return std::pair{kbps, interval_us};
}

Result<std::vector<XlVif>> parse_xl_vifs(std::string_view text) {
  if (text.size() > kXlVifMaxText)
    return bad("vif", "longer than " + std::to_string(kXlVifMaxText) + " bytes");
  if (!valid_utf8(text)) return bad("vif", "not valid UTF-8: " + utf8_escaped(text));
  std::string_view s = trim(text);
  std::vector<std::string_view> specs;
  if (s.starts_with("vif") && trim(s.substr(3)).starts_with("=")) {
    // vif = [ 'spec', "spec", ] (a trailing comma as Python allows)
    std::string_view rest = trim(trim(s.substr(3)).substr(1));
    if (!rest.starts_with("[") || !rest.ends_with("]")) return bad("vif", s);
    rest = rest.substr(1, rest.size() - 2);
    size_t i = 0;
    for (;;) {
      skip_space(rest, i);
      if (i >= rest.size()) break;
      auto q = quoted(rest, i);
      if (!q) return bad("vif", rest.substr(i));
      specs.push_back(*q);
      skip_space(rest, i);
      if (i >= rest.size()) break;
      if (rest[i] != ',') return bad("vif", rest.substr(i));
      ++i;
    }
    if (specs.empty()) return bad("vif", "an empty list");
  } else {
    size_t i = 0;
    if (auto q = quoted(s, i)) {  // one element as written in the list, quotes and all
      skip_space(s, i);
      if (i != s.size()) return bad("vif", s);
      specs.push_back(*q);
    } else {
      specs.push_back(s);
    }
  }
  if (specs.size() > kXlVifMaxVifs)
    return bad("vif", "more than " + std::to_string(kXlVifMaxVifs) + " VIFs");
  std::vector<XlVif> out;
  for (auto spec : specs) {
    auto v = parse_one(spec);
    if (!v) return v.error();
    out.push_back(std::move(v.value()));
  }
  return out;
}

}  // namespace hvnet::model
