// HTTP framing: bytes off the wire through Beast's request parser with the server's limits,
// then the router. Whatever parses gets a reply; nothing throws.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "../unit/mem_switch.h"
#include "api/http_server.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hvnet::api::ServerLimits lim;
  http::request_parser<http::string_body> p;
  p.header_limit(uint32_t(lim.max_header_bytes));
  p.body_limit(lim.max_body_bytes);
  p.eager(true);
  boost::beast::error_code ec;
  size_t used = p.put(boost::asio::buffer(data, size), ec);
  if (!ec && p.need_eof()) p.put_eof(ec);
  (void)used;
  if (ec || !p.is_done()) return 0;
  auto& req = p.get();
  // Only the shape of what the router gets is checked here; fuzz_api_request runs the calls.
  volatile size_t n = req.target().size() + req.body().size() + req[http::field::origin].size();
  (void)n;
  return 0;
}
