// Wire formats of the XenAPI: XML-RPC (methodCall/methodResponse with the Status/Value envelope)
// and JSON-RPC v1/v2. Decoding never throws: malformed input comes back as std::nullopt and the
// HTTP layer answers 500. Encoding follows xapi: ints and strings as bare XML-RPC values.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "model/result.h"

namespace hvnet::api {

struct RpcCall {
  std::string method;
  nlohmann::json params;  // array
  nlohmann::json id;      // JSON-RPC only
  bool v2 = false;        // JSON-RPC 2.0
};

std::optional<RpcCall> decode_xmlrpc(const std::string& body);
std::string encode_xmlrpc(const Result<nlohmann::json>& r);

std::optional<RpcCall> decode_jsonrpc(const std::string& body);
std::string encode_jsonrpc(const RpcCall& call, const Result<nlohmann::json>& r);

}  // namespace hvnet::api
