#include "engine/text_stream.h"

#include <gtest/gtest.h>

namespace lathe::engine {
namespace {

TEST(TextStream, PassesTextThroughWithoutStops) {
  TextStream s({});
  EXPECT_EQ(s.Update("Hel", false), "Hel");
  EXPECT_EQ(s.Update("Hello", false), "lo");
  EXPECT_EQ(s.Update("Hello!", true), "!");
  EXPECT_EQ(s.text(), "Hello!");
  EXPECT_FALSE(s.stopped());
}

TEST(TextStream, StopsOnASequenceThatSpansPieces) {
  TextStream s({"\nUser:"});
  EXPECT_EQ(s.Update("Sure.\nUs", false), "Sure.");  // "\nUs" might start the stop: held back
  EXPECT_EQ(s.Update("Sure.\nUser: hi", false), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.matched(), "\nUser:");
  EXPECT_EQ(s.text(), "Sure.");
}

TEST(TextStream, ReleasesHeldTextWhenItDidNotBecomeAStop) {
  TextStream s({"END"});
  EXPECT_EQ(s.Update("abcE", false), "abc");
  EXPECT_EQ(s.Update("abcEx", false), "Ex");
  EXPECT_EQ(s.Update("abcExEN", true), "EN");  // last update: nothing is held back
  EXPECT_FALSE(s.stopped());
}

TEST(TextStream, EarliestOfSeveralStopsWins) {
  TextStream s({"world", "lo w"});
  s.Update("hello world", false);
  EXPECT_EQ(s.text(), "hel");
  EXPECT_EQ(s.matched(), "lo w");
}

TEST(TextStream, HoldsBackAPartialUtf8Character) {
  TextStream s({});
  EXPECT_EQ(s.Update("caf\xEF\xBF\xBD", false), "caf");
  EXPECT_EQ(s.Update("caf\xC3\xA9", false), "\xC3\xA9");
}

}  // namespace
}  // namespace lathe::engine
