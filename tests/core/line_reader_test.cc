#include "core/line_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace lathe {
namespace {

std::vector<Line> ReadAll(const std::string& data, size_t max_line = 1 << 20, size_t chunk = 7,
                          std::vector<std::string>* texts = nullptr) {
  auto f = NewMemorySequentialFile(data);
  LineReader r(f.get(), max_line, chunk);
  std::vector<Line> out;
  Line l;
  while (r.Next(&l)) {
    if (texts) texts->emplace_back(l.text);
    out.push_back(l);
  }
  EXPECT_TRUE(r.status().ok());
  return out;
}

TEST(LineReader, SplitsLinesAcrossChunkBoundaries) {
  std::vector<std::string> texts;
  auto lines = ReadAll("alpha\nbravo charlie\r\n\nlast", 1 << 20, 3, &texts);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(texts, (std::vector<std::string>{"alpha", "bravo charlie", "", "last"}));
  EXPECT_EQ(lines[0].offset, 0u);
  EXPECT_EQ(lines[1].offset, 6u);
  EXPECT_TRUE(lines[1].had_cr);
  EXPECT_EQ(lines[2].offset, 21u);
  EXPECT_EQ(lines[3].number, 4u);
  EXPECT_FALSE(lines[3].had_newline);
  EXPECT_TRUE(lines[2].had_newline);
}

TEST(LineReader, SkipsOverlongLinesWithoutBufferingThem) {
  std::string data = "ok\n" + std::string(1000, 'x') + "\nafter\n";
  std::vector<std::string> texts;
  auto lines = ReadAll(data, 100, 16, &texts);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].length, 1000u);
  EXPECT_EQ(lines[1].offset, 3u);
  EXPECT_EQ(texts[2], "after");
  EXPECT_EQ(lines[2].offset, 1004u);
}

TEST(LineReader, OverlongLastLineWithoutNewline) {
  auto lines = ReadAll(std::string(500, '\0'), 64, 16);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].too_long);
  EXPECT_EQ(lines[0].length, 500u);
  EXPECT_FALSE(lines[0].had_newline);
}

TEST(LineReader, EmptyInputHasNoLines) { EXPECT_TRUE(ReadAll("").empty()); }

}  // namespace
}  // namespace lathe

namespace lathe {
namespace {

TEST(LineReader, LineOverTheLimitIsTooLongEvenWhenItFitsInOneChunk) {
  // The whole input fits in the first chunk, so the newline is found before any length check.
  std::string data = std::string(11, 'x') + "\n" + std::string(10, 'y') + "\n" + std::string(11, 'z');
  std::vector<std::string> texts;
  auto lines = ReadAll(data, 10, 1 << 10, &texts);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0].too_long);
  EXPECT_EQ(lines[0].length, 11u);
  EXPECT_EQ(texts[0], "");
  EXPECT_FALSE(lines[1].too_long);
  EXPECT_EQ(texts[1], std::string(10, 'y'));
  EXPECT_TRUE(lines[2].too_long);  // the last line, without a newline
  EXPECT_EQ(lines[2].length, 11u);
  EXPECT_EQ(lines[2].offset, 23u);
}

TEST(LineReader, ReadErrorMidwayStopsWithTheStatus) {
  class FailingFile final : public SequentialFile {
   public:
    Status Read(size_t n, char* scratch, size_t* bytes_read) override {
      if (calls_++ > 0) return Status::IOError("disk on fire");
      const char data[] = "one\ntwo\nthr";
      *bytes_read = std::min(n, sizeof data - 1);
      std::memcpy(scratch, data, *bytes_read);
      return Status::Ok();
    }
   private:
    int calls_ = 0;
  } file;
  LineReader r(&file, 100, 64);
  Line l;
  ASSERT_TRUE(r.Next(&l));
  EXPECT_EQ(l.text, "one");
  ASSERT_TRUE(r.Next(&l));
  EXPECT_EQ(l.text, "two");
  EXPECT_FALSE(r.Next(&l));  // "thr" is never returned as a complete line
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  EXPECT_EQ(r.status().message(), "disk on fire");
  EXPECT_FALSE(r.Next(&l));
}

}  // namespace
}  // namespace lathe

namespace lathe {
namespace {

// LineReader against a plain split on '\n', for random data, chunk sizes and limits.
TEST(LineReader, MatchesASimpleSplitOnRandomInput) {
  uint64_t seed = 12345;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  for (int iter = 0; iter < 2000; ++iter) {
    std::string data;
    size_t size = next(200);
    for (size_t i = 0; i < size; ++i) {
      uint64_t r = next(10);
      data += r == 0 ? '\n' : r == 1 ? '\r' : static_cast<char>('a' + next(3));
    }
    size_t max_line = 1 + next(30), chunk = 1 + next(40);
    SCOPED_TRACE("iter " + std::to_string(iter) + " max_line " + std::to_string(max_line) +
                 " chunk " + std::to_string(chunk));
    std::vector<std::string> texts;
    std::vector<Line> got = ReadAll(data, max_line, chunk, &texts);

    size_t expected_count = 0;
    size_t start = 0;
    while (start < data.size()) {
      size_t nl = data.find('\n', start);
      bool had_newline = nl != std::string::npos;
      size_t end = had_newline ? nl : data.size();
      std::string_view raw(data.data() + start, end - start);
      bool had_cr = !raw.empty() && raw.back() == '\r';
      if (had_cr) raw.remove_suffix(1);
      ASSERT_LT(expected_count, got.size());
      const Line& l = got[expected_count];
      EXPECT_EQ(l.number, expected_count + 1);
      EXPECT_EQ(l.offset, start);
      EXPECT_EQ(l.had_newline, had_newline);
      bool too_long = raw.size() > max_line;
      EXPECT_EQ(l.too_long, too_long) << "line " << l.number;
      EXPECT_EQ(l.length, raw.size()) << "line " << l.number;
      EXPECT_EQ(l.had_cr, had_cr) << "line " << l.number;
      EXPECT_EQ(texts[expected_count], too_long ? "" : raw) << "line " << l.number;
      ++expected_count;
      start = end + 1;
    }
    EXPECT_EQ(got.size(), expected_count);
  }
}

// NUL bytes without end, as /dev/zero gives them.
class EndlessZeros final : public SequentialFile {
 public:
  Status Read(size_t n, char* scratch, size_t* bytes_read) override {
    std::memset(scratch, 0, n);
    *bytes_read = n;
    read_ += n;
    return Status::Ok();
  }
  uint64_t read_ = 0;
};

TEST(LineReader, AnEndlessStreamStopsAtTheTotalLimit) {
  EndlessZeros zeros;
  LineReader r(&zeros, LineReader::Options{1 << 10, 1 << 12, 1 << 20, "/dev/zero"});
  Line l;
  EXPECT_FALSE(r.Next(&l));  // one endless line: never handed out, and the read ends
  EXPECT_TRUE(r.over_total_limit());
  EXPECT_FALSE(r.status().ok());
  EXPECT_NE(r.status().message().find("/dev/zero is over the 1048576-byte limit"), std::string::npos)
      << r.status().message();
  EXPECT_LE(zeros.read_, (1u << 20) + (1u << 12));
}

TEST(LineReader, Utf16TextIsNamedWithAFix) {
  const std::string le("\xFF\xFE{\0\"\0a\0\"\0:\0""1\0}\0\n\0", 20);
  const std::string bom_less("{\0\"\0a\0\"\0:\0""1\0}\0\n\0", 18);
  const std::string be("\xFE\xFF\0{\0\"\0a\0\"\0:\0""1\0}\0\n", 20);
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {le, "UTF-16LE"}, {bom_less, "UTF-16LE"}, {be, "UTF-16BE"}}) {
    auto f = NewMemorySequentialFile(text);
    LineReader r(f.get(), LineReader::Options{.chunk_bytes = 3, .name = "data.jsonl"});
    Line l;
    EXPECT_FALSE(r.Next(&l));
    EXPECT_TRUE(r.is_utf16());
    EXPECT_NE(r.status().message().find("data.jsonl is " + expected + " text"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("iconv -f UTF-16 -t UTF-8 data.jsonl"), std::string::npos);
  }
  // UTF-8 text, with or without its BOM, and short files are not UTF-16.
  for (const std::string text : {"{\"a\":1}\n", "\xEF\xBB\xBF{}\n", "a\n", "", "{\"\xC3\xA9\":0}\n"}) {
    auto f = NewMemorySequentialFile(text);
    LineReader r(f.get(), LineReader::Options{.chunk_bytes = 2});
    Line l;
    while (r.Next(&l)) {
    }
    EXPECT_TRUE(r.status().ok()) << r.status().message();
    EXPECT_FALSE(r.is_utf16());
  }
}

}  // namespace
}  // namespace lathe
