// xe's command line: `xe [-s HOST] [-p PORT] [-u USER] [-pw PASSWORD | -pwf FILE] [--minimal]
// COMMAND key=value …`. parse_command_line() is pure (it reads no file and never exits): a
// malformed line comes back as an error whose text xe prints as it is. Values are kept byte for
// byte; the server judges them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/xe/rpc_client.h"
#include "model/result.h"

namespace hvnet::xe {

struct Args {
  std::map<std::string, std::string> kv;
  std::vector<std::pair<std::string, std::string>> ordered;  // for map:key=value pairs
  bool minimal = false;
  bool has(const std::string& k) const { return kv.count(k) > 0; }
  std::string get(const std::string& k, const std::string& d = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? d : it->second;
  }
};

struct Invocation {
  Endpoint endpoint;
  std::string user = "root", password, password_file;
  std::string command;  // empty: none given
  Args args;
  bool help = false;
};

// `endpoint` carries the defaults (e.g. the socket from HVNET_XAPI_SOCKET).
Result<Invocation> parse_command_line(const std::vector<std::string>& argv, Endpoint endpoint = {});

}  // namespace hvnet::xe
