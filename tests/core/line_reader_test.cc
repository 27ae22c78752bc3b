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
