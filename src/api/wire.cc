#include "api/wire.h"

#include <pugixml.hpp>
#include <sstream>

namespace hvnet::api {

using json = nlohmann::json;

namespace {

std::optional<json> xml_value(const pugi::xml_node& value) {
  pugi::xml_node typed = value.first_child();
  if (!typed || typed.type() == pugi::node_pcdata) return json(value.text().as_string());
  std::string type = typed.name();
  if (type == "string") return json(typed.text().as_string());
  if (type == "int" || type == "i4" || type == "i8") {
    std::string s = typed.text().as_string();
    try {
      size_t used = 0;
      long long n = std::stoll(s, &used);
      if (used != s.size()) return std::nullopt;
      return json(n);
    } catch (...) {
      return std::nullopt;
    }
  }
  if (type == "boolean") {
    std::string s = typed.text().as_string();
    if (s != "0" && s != "1") return std::nullopt;
    return json(s == "1");
  }
  if (type == "double") return json(typed.text().as_double());
  if (type == "dateTime.iso8601") return json(typed.text().as_string());
  if (type == "array") {
    json arr = json::array();
    for (pugi::xml_node v : typed.child("data").children("value")) {
      auto e = xml_value(v);
      if (!e) return std::nullopt;
      arr.push_back(*e);
    }
    return arr;
  }
  if (type == "struct") {
    json obj = json::object();
    for (pugi::xml_node m : typed.children("member")) {
      auto e = xml_value(m.child("value"));
      if (!e || !m.child("name")) return std::nullopt;
      obj[m.child("name").text().as_string()] = *e;
    }
    return obj;
  }
  return std::nullopt;
}

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

}  // namespace

std::optional<RpcCall> decode_xmlrpc(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node call = doc.child("methodCall");
  if (!call || !call.child("methodName")) return std::nullopt;
  RpcCall c;
  c.method = call.child("methodName").text().as_string();
  c.params = json::array();
  for (pugi::xml_node p : call.child("params").children("param")) {
    auto v = xml_value(p.child("value"));
    if (!v) return std::nullopt;
    c.params.push_back(*v);
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

std::optional<RpcCall> decode_jsonrpc(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("method") || !j["method"].is_string())
    return std::nullopt;
  RpcCall c;
  c.method = j["method"];
  c.params = j.value("params", json::array());
  if (!c.params.is_array()) return std::nullopt;
  c.id = j.value("id", json());
  if (c.id.is_null()) return std::nullopt;  // a null id is rejected
  c.v2 = j.value("jsonrpc", "") == "2.0";
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
  return out.dump();
}

}  // namespace hvnet::api
