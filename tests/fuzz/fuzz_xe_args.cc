// xe's command line: NUL-separated arguments through parse_command_line.
#include "cli/xe/args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> argv;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      argv.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += char(data[i]);
    }
  }
  argv.push_back(cur);
  (void)hvnet::xe::parse_command_line(argv);
  return 0;
}
