// s3:// URIs as jobs and `lathe data` name objects: the bucket by S3's naming syntax, the key
// byte for byte (never decoded, never a path), hostile input refused before it is echoed.
#include <gtest/gtest.h>

#include "service/s3_uri.h"

namespace lathe::service {
namespace {

std::string Error(const Result<S3Uri>& r) { return r.ok() ? "(ok: " + r->bucket + " | " + r->key + ")" : r.status().message(); }

TEST(S3Uri, SplitsBucketAndKey) {
  auto r = ParseS3Uri("s3://my-bucket/training-data/train.jsonl");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bucket, "my-bucket");
  EXPECT_EQ(r->key, "training-data/train.jsonl");
  EXPECT_EQ(r->ToString(), "s3://my-bucket/training-data/train.jsonl");
  EXPECT_TRUE(IsS3Uri("s3://b"));
  EXPECT_FALSE(IsS3Uri("S3://bucket/key"));  // the scheme is lowercase, as the AWS CLI wants it
  EXPECT_FALSE(IsS3Uri("file:///tmp/x"));
  EXPECT_FALSE(IsS3Uri("s3:/bucket/key"));
}

TEST(S3Uri, KeysAreTakenByteForByteWithSpacesPercentAndUnicode) {
  // The AWS CLI and Bedrock do not percent-decode: "%41" is three characters of the key.
  for (const std::string key : {"my data/train set.jsonl", "100%.jsonl", "a%41b.jsonl", "données/über/训练.jsonl",
                                "a//b.jsonl", "../../etc/passwd", "./x", "with+plus&amp;=?#.jsonl", " leading"}) {
    auto r = ParseS3ObjectUri("s3://bucket-1/" + key);
    ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
    EXPECT_EQ(r->bucket, "bucket-1");
    EXPECT_EQ(r->key, key);
    EXPECT_EQ(r->ToString(), "s3://bucket-1/" + key);
  }
}

TEST(S3Uri, BucketNamesFollowS3sSyntax) {
  for (const std::string ok : {std::string("abc"), std::string("a.b-c1"), std::string("123"), std::string(63, 'a'), std::string("my.bucket.name")})
    EXPECT_TRUE(ParseS3Uri("s3://" + ok + "/k").ok()) << ok;
  const std::pair<std::string, std::string> bad[] = {
      {"s3:///key", "names no bucket"},
      {"s3://", "names no bucket"},
      {"s3://ab/k", "3 to 63 characters; \"ab\" has 2"},
      {"s3://" + std::string(64, 'a') + "/k", "has 64"},
      {"s3://My-Bucket/k", "only lowercase letters, digits, '.' and '-'"},
      {"s3://my_bucket/k", "only lowercase letters"},
      {"s3://my bucket/k", "only lowercase letters"},
      {"s3://-abc/k", "starts and ends with a lowercase letter or a digit"},
      {"s3://abc-/k", "starts and ends"},
      {"s3://.abc/k", "starts and ends"},
      {"s3://a..b/k", "no two adjacent periods"},
      {"s3://bücket/k", "only lowercase letters"},
      {"http://bucket/k", "expected s3://bucket/key"},
  };
  for (const auto& [uri, why] : bad) {
    auto r = ParseS3Uri(uri);
    ASSERT_FALSE(r.ok()) << uri;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << uri << ": " << r.status().message();
  }
}

TEST(S3Uri, ObjectsNeedAKeyThatIsNotAFolder) {
  EXPECT_EQ(Error(ParseS3Uri("s3://bucket")), "(ok: bucket | )");
  EXPECT_EQ(Error(ParseS3ObjectUri("s3://bucket")), "s3://bucket: names a bucket, not an object (expected s3://bucket/key)");
  EXPECT_EQ(Error(ParseS3ObjectUri("s3://bucket/")), "s3://bucket/: names a bucket, not an object (expected s3://bucket/key)");
  EXPECT_EQ(Error(ParseS3ObjectUri("s3://bucket/data/")),
            "s3://bucket/data/: names a folder, not an object (the URI should be a file)");
}

TEST(S3Uri, OutputPrefixesAlwaysEndInASlash) {
  EXPECT_EQ(Error(ParseS3PrefixUri("s3://bucket")), "(ok: bucket | )");
  EXPECT_EQ(Error(ParseS3PrefixUri("s3://bucket/")), "(ok: bucket | )");
  EXPECT_EQ(Error(ParseS3PrefixUri("s3://bucket/output")), "(ok: bucket | output/)");
  EXPECT_EQ(Error(ParseS3PrefixUri("s3://bucket/output/")), "(ok: bucket | output/)");
  EXPECT_EQ(Error(ParseS3PrefixUri("s3://bucket/a/b")), "(ok: bucket | a/b/)");
  EXPECT_EQ(ParseS3PrefixUri("s3://bucket/output")->ToString(), "s3://bucket/output/");
  // A 1024-byte key leaves no room for the '/' a prefix needs.
  EXPECT_FALSE(ParseS3PrefixUri("s3://bucket/" + std::string(kMaxS3KeyBytes, 'k')).ok());
  EXPECT_TRUE(ParseS3PrefixUri("s3://bucket/" + std::string(kMaxS3KeyBytes - 1, 'k')).ok());
}

TEST(S3Uri, HostileUrisAreRefusedBeforeTheyAreEchoed) {
  // Length first: nothing of a huge URI is looked at or repeated.
  const std::string huge = "s3://bucket/" + std::string(1 << 20, 'k');
  EXPECT_EQ(Error(ParseS3Uri(huge)), "an s3:// URI has at most 1093 characters; this one has 1048588");
  // Keys: 1024 bytes at most (S3's limit), counted in bytes, not characters.
  EXPECT_TRUE(ParseS3Uri("s3://bucket/" + std::string(kMaxS3KeyBytes, 'k')).ok());
  EXPECT_NE(Error(ParseS3Uri("s3://abc/" + std::string(kMaxS3KeyBytes + 1, 'k'))).find("at most 1024 bytes; this one has 1025"),
            std::string::npos);
  // Control characters: a NUL would cut a name short wherever it is passed on; never echoed.
  for (const std::string uri : {std::string("s3://bucket/a\0b", 15), std::string("s3://bucket/a\nb"),
                                std::string("s3://bucket/\x1b[31m"), std::string("s3://bucket/a\x7f")}) {
    const std::string e = Error(ParseS3Uri(uri));
    EXPECT_NE(e.find("control character"), std::string::npos) << e;
    EXPECT_EQ(e.find("s3://bucket"), std::string::npos) << e;
  }
  // Invalid UTF-8 is not a key S3 can hold, and not echoed either.
  const std::string e = Error(ParseS3Uri("s3://bucket/\xff\xfe.jsonl"));
  EXPECT_EQ(e, "the s3:// URI is not valid UTF-8 (at byte 12)");
  EXPECT_FALSE(ParseS3Uri("s3://bucket/\xc0\xaf").ok());  // an overlong '/'
}

}  // namespace
}  // namespace lathe::service
