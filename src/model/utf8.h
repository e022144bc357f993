// UTF-8 checks for text that crosses the API edge. XenAPI strings are UTF-8: a string that is not
// (a stray byte, an overlong form, a surrogate, a code point past U+10FFFF) is refused where it
// enters, never stored. utf8_escaped() renders such a string for an error message: valid
// sequences as they are, every other byte as \xNN. Pure functions, linear in the input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hvnet {

// Length of the valid UTF-8 sequence at s[i], or 0 if none starts there.
inline size_t utf8_sequence_len(std::string_view s, size_t i) noexcept {
  const auto b = [&](size_t k) { return uint8_t(s[i + k]); };
  const size_t left = s.size() - i;
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return k < left && (b(k) & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xe0 && b(1) < 0xa0) return 0;   // overlong
    if (c == 0xed && b(1) >= 0xa0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xf0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xf4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

inline bool valid_utf8(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

inline std::string utf8_escaped(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (size_t n = utf8_sequence_len(s, i); n != 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      const auto c = uint8_t(s[i++]);
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace hvnet
