#include "core/page_token.h"

#include "core/sha256.h"

namespace lathe {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kCheckHex = 16;  // 64 bits of SHA-256: catches typos and truncation, not forgers

std::string Base64Url(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63]};
    if (i + 1 < in.size()) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '-' ? 62 : c == '_' ? 63 : -1;
}

std::optional<std::string> FromBase64Url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    const int s = Sextet(c);
    if (s < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(s);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

std::string Check(std::string_view list, std::string_view position) {
  std::string material(list);
  material.push_back('\0');
  material.append(position);
  return Sha256Hex(material).substr(0, kCheckHex);
}

}  // namespace

std::string EncodePageToken(std::string_view list, std::string_view position) {
  position = position.substr(0, kMaxPagePositionBytes);
  return Base64Url(std::string(position) + '\0' + Check(list, position));
}

std::optional<std::string> DecodePageToken(std::string_view list, std::string_view token) {
  // Lengths first: a token is at most what EncodePageToken makes of the longest position.
  if (token.empty() || token.size() > (kMaxPagePositionBytes + 1 + kCheckHex) * 4 / 3 + 4) return std::nullopt;
  std::optional<std::string> raw = FromBase64Url(token);
  if (!raw || raw->size() < kCheckHex + 1) return std::nullopt;
  const size_t nul = raw->size() - kCheckHex - 1;
  if ((*raw)[nul] != '\0') return std::nullopt;
  std::string position = raw->substr(0, nul);
  if (raw->substr(nul + 1) != Check(list, position)) return std::nullopt;
  return position;
}

}  // namespace lathe
