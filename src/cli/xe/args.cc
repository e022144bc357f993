#include "cli/xe/args.h"

#include <charconv>

namespace hvnet::xe {

Result<Invocation> parse_command_line(const std::vector<std::string>& av, Endpoint endpoint) {
  Invocation inv;
  inv.endpoint = std::move(endpoint);
  for (size_t i = 0; i < av.size(); ++i) {
    const std::string& s = av[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= av.size()) return make_error("USAGE", {"missing value after " + s});
      return av[++i];
    };
    if (s == "--cafile") {
      auto v = value();
      if (!v) return v.error();
      inv.endpoint.ca_file = v.value();
      continue;
    }
    if (s == "-s" || s == "-p" || s == "-u" || s == "-pw" || s == "-pwf") {
      auto v = value();
      if (!v) return v.error();
      if (s == "-s") {
        inv.endpoint.host = v.value();
      } else if (s == "-p") {
        unsigned port = 0;
        const std::string& p = v.value();
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
        if (p.empty() || ec != std::errc() || end != p.data() + p.size() || port == 0 ||
            port > 65535)
          return make_error("USAGE", {"-p wants a port number (1-65535), got '" + p + "'"});
        inv.endpoint.port = uint16_t(port);
        inv.endpoint.port_given = true;
      } else if (s == "-u") {
        inv.user = v.value();
      } else if (s == "-pw") {
        inv.password = v.value();
      } else {
        inv.password_file = v.value();
      }
    } else if (s == "--minimal") {
      inv.args.minimal = true;
    } else if (s == "--nossl") {
      inv.endpoint.tls = false;
    } else if (s == "help" || s == "--help" || s == "-h") {
      inv.help = true;
    } else if (inv.command.empty() && s.find('=') == std::string::npos) {
      inv.command = s;
    } else {
      auto eq = s.find('=');
      if (eq == std::string::npos)
        return make_error("USAGE", {"Syntax error: expected key=value, got '" + s + "'"});
      std::string k = s.substr(0, eq), v = s.substr(eq + 1);
      if (k == "minimal") {
        inv.args.minimal = v == "true";
        continue;
      }
      inv.args.kv[k] = v;
      inv.args.ordered.emplace_back(k, v);
    }
  }
  return inv;
}

}  // namespace hvnet::xe
