// IPv4 addresses as operators read them (dotted quad), one spelling for the topology file, the
// VXLAN port's status and its errors.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

namespace hvnet {

inline std::string ipv4_text(in_addr a) {
  char s[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a, s, sizeof s);
  return s;
}

}  // namespace hvnet
