#include "core/page_token.h"

#include <gtest/gtest.h>

namespace lathe {
namespace {

TEST(PageToken, RoundTripsAnyPositionAndIsOpaque) {
  for (std::string position : {std::string("100"), std::string("role-name_1"), std::string(""), std::string("a\0b", 3),
                               std::string(1024, 'x'), std::string("\xff\x01 unicode \xc3\xa9")}) {
    const std::string token = EncodePageToken("bedrock:jobs", position);
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    auto back = DecodePageToken("bedrock:jobs", token);
    ASSERT_TRUE(back.has_value()) << token;
    EXPECT_EQ(*back, position);
  }
  EXPECT_NE(EncodePageToken("bedrock:jobs", "100"), "100");
}

TEST(PageToken, ForgedMistypedTruncatedAndOtherListsTokensAreRefused) {
  const std::string token = EncodePageToken("iam:roles", "bedrockfinetuningrole");
  EXPECT_FALSE(DecodePageToken("s3:buckets", token));  // another list's
  for (size_t i = 0; i < token.size(); ++i) {
    std::string flipped = token;
    flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(DecodePageToken("iam:roles", flipped)) << i;
  }
  EXPECT_FALSE(DecodePageToken("iam:roles", token.substr(0, token.size() - 1)));
  for (const char* forged : {"", "-1", "9223372036854775808", "100", "====", "a b", "\x01"})
    EXPECT_FALSE(DecodePageToken("iam:roles", forged)) << forged;
  EXPECT_FALSE(DecodePageToken("iam:roles", std::string(100000, 'A')));  // length before anything
}

}  // namespace
}  // namespace lathe
