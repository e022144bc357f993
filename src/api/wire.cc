#include "api/wire.h"

#include <charconv>
#include <pugixml.hpp>
#include <sstream>

#include "model/utf8.h"
#include "util/bounded_json.h"

namespace hvnet::api {

using json = nlohmann::json;

namespace {

Error malformed(std::string what) {
  return make_error(kMalformedRequest, {std::move(what)});
}

// One XML-RPC request's conversion to JSON values, within the limits.
class XmlDecoder {
 public:
  explicit XmlDecoder(const DecodeLimits& l) : limits_(l) {}

  // `depth` counts the envelope: methodCall/params/param/value is 1.
  Result<json> value(const pugi::xml_node& value, int depth) {
    if (depth > limits_.max_depth)
      return malformed("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    if (++values_ > limits_.max_values)
      return malformed("more than " + std::to_string(limits_.max_values) + " values");
    pugi::xml_node typed = value.first_child();
    if (!typed || typed.type() == pugi::node_pcdata) return text(value.text().get());
    std::string_view type = typed.name();
    if (type == "string" || type == "dateTime.iso8601") return text(typed.text().get());
    if (type == "int" || type == "i4" || type == "i8") {
      std::string_view s = typed.text().get();
      int64_t n = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        return malformed("<" + std::string(type) + "> is not an integer: " + utf8_escaped(s));
      return json(n);
    }
    if (type == "boolean") {
      std::string_view s = typed.text().get();
      if (s != "0" && s != "1") return malformed("<boolean> is not 0 or 1: " + utf8_escaped(s));
      return json(s == "1");
    }
    if (type == "double") return json(typed.text().as_double());
    if (type == "nil") return json(nullptr);  // an omitted optional parameter (XML-RPC extension)
    if (type == "array") {
      json arr = json::array();
      for (pugi::xml_node v : typed.child("data").children("value")) {
        auto e = value_at(v, depth + 1);
        if (!e) return e;
        arr.push_back(std::move(e.value()));
      }
      return arr;
    }
    if (type == "struct") {
      json obj = json::object();
      for (pugi::xml_node m : typed.children("member")) {
        if (!m.child("name")) return malformed("struct member without a <name>");
        auto name = text(m.child("name").text().get());
        if (!name) return name;
        auto e = value_at(m.child("value"), depth + 1);
        if (!e) return e;
        obj[name.value().get<std::string>()] = std::move(e.value());
      }
      return obj;
    }
    return malformed("unknown XML-RPC type <" + utf8_escaped(type) + ">");
  }

  static Result<json> text(std::string_view s) {
    if (!valid_utf8(s)) return malformed("string is not valid UTF-8: " + utf8_escaped(s));
    return json(std::string(s));
  }

 private:
  Result<json> value_at(const pugi::xml_node& v, int depth) {
    if (!v) return malformed("missing <value>");
    return value(v, depth);
  }
  const DecodeLimits& limits_;
  size_t values_ = 0;
};

void put_value(pugi::xml_node parent, const json& v) {
  pugi::xml_node value = parent.append_child("value");
  if (v.is_string()) {
    value.text().set(v.get_ref<const std::string&>().c_str());
  } else if (v.is_number_integer()) {
    value.text().set(std::to_string(v.get<int64_t>()).c_str());  // xapi: ints as strings
  } else if (v.is_number_float()) {
    value.append_child("double").text().set(v.get<double>());
  } else if (v.is_boolean()) {
    value.append_child("boolean").text().set(v.get<bool>() ? "1" : "0");
  } else if (v.is_array()) {
    pugi::xml_node data = value.append_child("array").append_child("data");
    for (const auto& e : v) put_value(data, e);
  } else if (v.is_object()) {
    pugi::xml_node st = value.append_child("struct");
    for (const auto& [k, e] : v.items()) {
      pugi::xml_node m = st.append_child("member");
      m.append_child("name").text().set(k.c_str());
      put_value(m, e);
    }
  } else {
    value.text().set("");
  }
}

json error_array(const Error& e) {
  json a = json::array({e.code});
  for (const auto& p : e.params) a.push_back(p);
  return a;
}

std::string dump_safe(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string encode_xmlrpc_value(const json& v) {
  pugi::xml_document doc;
  put_value(doc, v);
  std::ostringstream out;
  doc.first_child().print(out, "", pugi::format_raw);
  return out.str();
}

Result<RpcCall> decode_xmlrpc(const std::string& body, const DecodeLimits& limits) {
  pugi::xml_document doc;
  // UTF-8 whatever the declaration says; no DOCTYPE (entities never expand beyond XML's own).
  auto parsed = doc.load_buffer(body.data(), body.size(),
                                pugi::parse_default & ~pugi::parse_doctype, pugi::encoding_utf8);
  if (!parsed)
    return malformed(std::string("not XML: ") + parsed.description() + " at byte " +
                     std::to_string(parsed.offset));
  pugi::xml_node call = doc.child("methodCall");
  if (!call || !call.child("methodName")) return malformed("no <methodCall><methodName>");
  auto method = XmlDecoder::text(call.child("methodName").text().get());
  if (!method) return method.error();
  RpcCall c;
  c.method = method.value().get<std::string>();
  c.params = json::array();
  XmlDecoder dec(limits);
  for (pugi::xml_node p : call.child("params").children("param")) {
    if (!p.child("value")) return malformed("<param> without a <value>");
    auto v = dec.value(p.child("value"), 1);
    if (!v) return v.error();
    c.params.push_back(std::move(v.value()));
  }
  return c;
}

std::string encode_xmlrpc(const Result<json>& r) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  pugi::xml_node param =
      doc.append_child("methodResponse").append_child("params").append_child("param");
  json env = r ? json{{"Status", "Success"}, {"Value", r.value()}}
               : json{{"Status", "Failure"}, {"ErrorDescription", error_array(r.error())}};
  put_value(param, env);
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

Result<RpcCall> decode_jsonrpc(const std::string& body, const DecodeLimits& limits) {
  auto parsed = parse_bounded_json(body, JsonLimits{limits.max_depth, limits.max_values});
  if (!parsed) return parsed.error();
  json& j = parsed.value();
  if (!j.is_object()) return malformed("a JSON-RPC request is an object");
  auto method = j.find("method");
  if (method == j.end() || !method->is_string()) return malformed("\"method\" is not a string");
  RpcCall c;
  c.method = method->get<std::string>();
  if (auto p = j.find("params"); p != j.end()) {
    if (!p->is_array()) return malformed("\"params\" is not an array");
    c.params = std::move(*p);
  } else {
    c.params = json::array();
  }
  auto id = j.find("id");
  if (id == j.end() || id->is_null()) return malformed("\"id\" is missing or null");
  if (!id->is_string() && !id->is_number()) return malformed("\"id\" is not a string or number");
  c.id = std::move(*id);
  if (auto v = j.find("jsonrpc"); v != j.end()) {
    if (!v->is_string() || (*v != "2.0" && *v != "1.0"))
      return malformed("\"jsonrpc\" is not \"2.0\" or \"1.0\"");
    c.v2 = *v == "2.0";
  }
  return c;
}

std::string encode_jsonrpc(const RpcCall& call, const Result<json>& r) {
  json out;
  if (call.v2) {
    out["jsonrpc"] = "2.0";
    if (r) {
      out["result"] = r.value();
    } else {
      json data = json::array();
      for (const auto& p : r.error().params) data.push_back(p);
      out["error"] = {{"code", 1}, {"message", r.error().code}, {"data", data}};
    }
  } else {
    out["result"] = r ? r.value() : json();
    out["error"] = r ? json() : error_array(r.error());
  }
  out["id"] = call.id;
  return dump_safe(out);
}

std::string encode_jsonrpc_refusal(const Error& e) {
  return dump_safe(json{{"result", nullptr}, {"error", error_array(e)}, {"id", nullptr}});
}

}  // namespace hvnet::api
