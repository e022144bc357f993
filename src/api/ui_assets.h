// The web console's files (src/ui/), compiled into hvnetd by cmake/embed_ui.cmake: served from
// memory, so the console needs nothing installed and works offline.
#pragma once

#include <string_view>

namespace hvnet::api::ui {

struct Asset {
  std::string_view path;  // "/ui/index.html"
  const char* type;       // its Content-Type
  std::string_view body;
};

// nullptr when there is no such file.
const Asset* find_asset(std::string_view path);

}  // namespace hvnet::api::ui
