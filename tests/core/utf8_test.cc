#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace lathe {
namespace {

constexpr size_t npos = std::string_view::npos;
const std::string kFffd = "\xEF\xBF\xBD";

TEST(FindInvalidUtf8, AcceptsValidTextOfEveryLength) {
  EXPECT_EQ(FindInvalidUtf8(""), npos);
  EXPECT_EQ(FindInvalidUtf8("plain ascii, longer than eight bytes"), npos);
  EXPECT_EQ(FindInvalidUtf8(std::string("nul\0inside", 10)), npos);
  EXPECT_EQ(FindInvalidUtf8("\x7F"), npos);
  // Boundaries of each length: U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF.
  EXPECT_EQ(FindInvalidUtf8("\xC2\x80"), npos);
  EXPECT_EQ(FindInvalidUtf8("\xDF\xBF"), npos);
  EXPECT_EQ(FindInvalidUtf8("\xE0\xA0\x80"), npos);
  EXPECT_EQ(FindInvalidUtf8("\xEF\xBF\xBF"), npos);
  EXPECT_EQ(FindInvalidUtf8("\xF0\x90\x80\x80"), npos);
  EXPECT_EQ(FindInvalidUtf8("\xF4\x8F\xBF\xBF"), npos);
  // Just outside the surrogate range: U+D7FF and U+E000.
  EXPECT_EQ(FindInvalidUtf8("\xED\x9F\xBF"), npos);
  EXPECT_EQ(FindInvalidUtf8("\xEE\x80\x80"), npos);
  EXPECT_EQ(FindInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD"), npos);
}

TEST(FindInvalidUtf8, RejectsOverlongForms) {
  EXPECT_EQ(FindInvalidUtf8("\xC0\x80"), 0u);          // NUL in two bytes
  EXPECT_EQ(FindInvalidUtf8("\xC1\xBF"), 0u);          // U+007F in two bytes
  EXPECT_EQ(FindInvalidUtf8("ab\xE0\x80\xAF"), 2u);    // '/' in three bytes
  EXPECT_EQ(FindInvalidUtf8("\xE0\x9F\xBF"), 0u);      // U+07FF in three bytes
  EXPECT_EQ(FindInvalidUtf8("\xF0\x8F\xBF\xBF"), 0u);  // U+FFFF in four bytes
  EXPECT_EQ(FindInvalidUtf8("\xF0\x80\x80\xAF"), 0u);
}

TEST(FindInvalidUtf8, RejectsSurrogates) {
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);        // U+D800
  EXPECT_EQ(FindInvalidUtf8("x\xED\xBF\xBF"), 1u);       // U+DFFF
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\xBD\xED\xB8\x80"), 0u);  // CESU-8 pair for U+1F600
}

TEST(FindInvalidUtf8, RejectsCodePointsAboveU10FFFF) {
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(FindInvalidUtf8("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(FindInvalidUtf8("\xF7\xBF\xBF\xBF"), 0u);  // U+1FFFFF
  EXPECT_EQ(FindInvalidUtf8("\xF8\x88\x80\x80\x80"), 0u);  // old 5-byte form
  EXPECT_EQ(FindInvalidUtf8("\xFC\x84\x80\x80\x80\x80"), 0u);
  EXPECT_EQ(FindInvalidUtf8("\xFE"), 0u);
  EXPECT_EQ(FindInvalidUtf8("\xFF"), 0u);
}

TEST(FindInvalidUtf8, RejectsTruncatedAndStrayBytes) {
  EXPECT_EQ(FindInvalidUtf8("\xC3"), 0u);               // lead byte at end
  EXPECT_EQ(FindInvalidUtf8("abc\xE2\x82"), 3u);        // 3-byte sequence cut short
  EXPECT_EQ(FindInvalidUtf8("\xF0\x9F\x98"), 0u);       // 4-byte cut short
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82x"), 0u);          // continuation replaced by ASCII
  EXPECT_EQ(FindInvalidUtf8("\xC3\xC3\xA9"), 0u);       // lead followed by lead
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);               // lone continuation
  EXPECT_EQ(FindInvalidUtf8("ok\xC3\xA9\xBF"), 4u);     // extra continuation after a char
  EXPECT_EQ(FindInvalidUtf8("latin1 caf\xE9"), 10u);
}

TEST(FindInvalidUtf8, FindsTheFirstBadByteAfterTheAsciiFastPath) {
  // The ASCII fast path reads 8 bytes at a time: put the bad byte at every offset in a word.
  for (size_t k = 0; k < 24; ++k) {
    std::string s(k, 'a');
    s += '\xFF';
    s += std::string(20, 'b');
    EXPECT_EQ(FindInvalidUtf8(s), k) << "bad byte at " << k;
  }
}

TEST(SanitizeUtf8, LeavesValidTextAlone) {
  EXPECT_EQ(SanitizeUtf8(""), "");
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(SanitizeUtf8, ReplacesInvalidBytesWithReplacementCharacter) {
  EXPECT_EQ(SanitizeUtf8("caf\xE9!"), "caf" + kFffd + "!");
  EXPECT_EQ(SanitizeUtf8("\xFF\xFE"), kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("a\xC0\x80z"), "a" + kFffd + kFffd + "z");
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  // The result is always valid, whatever the input.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (int i = 255; i >= 0; --i) all += static_cast<char>(i);
  EXPECT_EQ(FindInvalidUtf8(SanitizeUtf8(all)), npos);
  EXPECT_EQ(FindInvalidUtf8(SanitizeUtf8("\xF0\x9F\x98")), npos);
}

TEST(CountCodePoints, CountsCharactersNotBytes) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("abc"), 3u);
  EXPECT_EQ(CountCodePoints("caf\xC3\xA9"), 4u);
  EXPECT_EQ(CountCodePoints("\xE4\xB8\xAD\xF0\x9F\x98\x80"), 2u);
}

}  // namespace
}  // namespace lathe

namespace lathe {
namespace {

// The well-formed byte sequences of the Unicode Standard, Table 3-7, written out directly.
size_t ReferenceLength(const unsigned char* p, size_t n) {
  auto in = [](unsigned char c, int lo, int hi) { return c >= lo && c <= hi; };
  unsigned char c = p[0];
  if (c <= 0x7F) return 1;
  struct Row {
    int lead_lo, lead_hi, len, second_lo, second_hi;
  } rows[] = {{0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
              {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
              {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F}};
  for (const Row& r : rows) {
    if (!in(c, r.lead_lo, r.lead_hi)) continue;
    if (n < static_cast<size_t>(r.len) || !in(p[1], r.second_lo, r.second_hi)) return 0;
    for (int k = 2; k < r.len; ++k)
      if (!in(p[k], 0x80, 0xBF)) return 0;
    return static_cast<size_t>(r.len);
  }
  return 0;
}

size_t ReferenceFindInvalid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    size_t len = ReferenceLength(p + i, s.size() - i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

TEST(FindInvalidUtf8, AgreesWithTable37OnEveryOneTwoAndThreeByteString) {
  size_t mismatches = 0;
  char buf[3];
  for (int a = 0; a < 256; ++a) {
    buf[0] = static_cast<char>(a);
    mismatches += FindInvalidUtf8({buf, 1}) != ReferenceFindInvalid({buf, 1});
    for (int b = 0; b < 256; ++b) {
      buf[1] = static_cast<char>(b);
      mismatches += FindInvalidUtf8({buf, 2}) != ReferenceFindInvalid({buf, 2});
      for (int c = 0; c < 256; ++c) {
        buf[2] = static_cast<char>(c);
        if (FindInvalidUtf8({buf, 3}) != ReferenceFindInvalid({buf, 3})) {
          ADD_FAILURE() << std::hex << a << " " << b << " " << c;
          if (++mismatches > 10) return;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(FindInvalidUtf8, AgreesWithTable37OnFourByteLeads) {
  // Every F0..FF lead with every second and third byte; the fourth varies over its edges.
  size_t mismatches = 0;
  char buf[4];
  for (int a = 0xF0; a < 256; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c = 0; c < 256; ++c)
        for (int d : {0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF}) {
          buf[0] = static_cast<char>(a), buf[1] = static_cast<char>(b);
          buf[2] = static_cast<char>(c), buf[3] = static_cast<char>(d);
          if (FindInvalidUtf8({buf, 4}) != ReferenceFindInvalid({buf, 4}) && ++mismatches <= 10)
            ADD_FAILURE() << std::hex << a << " " << b << " " << c << " " << d;
        }
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace lathe
