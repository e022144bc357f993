// Wire formats of the XenAPI: XML-RPC (methodCall/methodResponse with the Status/Value envelope)
// and JSON-RPC v1/v2. Encoding follows xapi: ints and strings as bare XML-RPC values.
//
// Decoding is the API's edge and holds to DecodeLimits: nesting deeper than max_depth, more than
// max_values values, a string (method name, member name or value) that is not UTF-8 after entity
// expansion, or a member of the wrong JSON type is refused with a MALFORMED_REQUEST error that says
// what and where. Decoding never throws, costs time linear in the body and stack bounded by
// max_depth; the HTTP layer answers its errors with 400. Encoding never throws either: a string
// that is somehow not UTF-8 goes out with U+FFFD in place of the bad bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/result.h"

namespace hvnet::api {

struct DecodeLimits {
  int max_depth = 64;          // nesting of arrays/structs (and of the envelope itself)
  size_t max_values = 100000;  // values in one request, at every level
};

struct RpcCall {
  std::string method;
  nlohmann::json params;  // array
  nlohmann::json id;      // JSON-RPC only
  bool v2 = false;        // JSON-RPC 2.0
};

// Error code of every refusal by a decoder (as parse_bounded_json's); params[0] says what.
inline constexpr const char* kMalformedRequest = "MALFORMED_REQUEST";

Result<RpcCall> decode_xmlrpc(const std::string& body, const DecodeLimits& limits = {});
std::string encode_xmlrpc(const Result<nlohmann::json>& r);
// One value as XML-RPC's <value> element (how xapi stores a task's result).
std::string encode_xmlrpc_value(const nlohmann::json& v);

Result<RpcCall> decode_jsonrpc(const std::string& body, const DecodeLimits& limits = {});
std::string encode_jsonrpc(const RpcCall& call, const Result<nlohmann::json>& r);

// What a JSON-RPC reply carries when the request itself could not be decoded (id null).
std::string encode_jsonrpc_refusal(const Error& e);

}  // namespace hvnet::api
