// CompleteMultipartUpload's body and the completion rules, without a store.
#include <gtest/gtest.h>

#include "core/checksum.h"
#include "services/s3/multipart_shapes.h"

namespace lathe::s3 {
namespace {

std::string Complete(const std::string& parts) {
  return "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + parts +
         "</CompleteMultipartUpload>";
}
std::string Part(int n, const std::string& etag) {
  return "<Part><ETag>" + etag + "</ETag><PartNumber>" + std::to_string(n) + "</PartNumber></Part>";
}
std::string Md5Hex(std::string_view data) { return HexEncode(ChecksumOf(ChecksumAlgorithm::kMd5, data)); }

TEST(CompleteMultipartUploadXml, ReadsPartsWithQuotedAndBareEtagsAndChecksums) {
  Result<std::vector<CompletedPart>> parts = ParseCompleteMultipartUpload(Complete(
      Part(1, "\"aa\"") + "<Part><PartNumber>2</PartNumber><ETag>bb</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>"));
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].part_number, 1);
  EXPECT_EQ((*parts)[0].etag, "aa");
  EXPECT_EQ((*parts)[1].etag, "bb");
  EXPECT_EQ((*parts)[1].checksums.at("CRC32"), "AAAAAA==");
}

TEST(CompleteMultipartUploadXml, RefusesWhatIsNotTheSchema) {
  for (const std::string& body :
       {std::string(), Complete(""), std::string("<Other/>"), Complete("<Part><ETag>x</ETag></Part>"),
        Complete("<Part><PartNumber>1</PartNumber></Part>"), Complete("<Bogus/>"),
        Complete("<Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>x</ETag></Part>"),
        Complete("<Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumMD4>x</ChecksumMD4></Part>"),
        std::string("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"),
        std::string("<!DOCTYPE x [<!ENTITY a \"b\">]>") + Complete(Part(1, "x"))}) {
    Result<std::vector<CompletedPart>> parts = ParseCompleteMultipartUpload(body);
    ASSERT_FALSE(parts.ok()) << body;
    EXPECT_EQ(parts.status().aws_code(), "MalformedXML") << body;
    EXPECT_EQ(parts.status().http_status(), 400);
  }
}

TEST(CompleteMultipartUploadXml, PartNumbersAreBounded) {
  for (const char* n : {"0", "10001", "-1", "1e3", "99999999999", " ", "x"}) {
    Result<std::vector<CompletedPart>> parts =
        ParseCompleteMultipartUpload(Complete(std::string("<Part><PartNumber>") + n + "</PartNumber><ETag>x</ETag></Part>"));
    ASSERT_FALSE(parts.ok()) << n;
    EXPECT_EQ(parts.status().aws_code(), "InvalidArgument") << n;
  }
  EXPECT_TRUE(ParsePartNumber("10000").ok());
  EXPECT_FALSE(ParsePartNumber("010000").ok());
}

TEST(CompleteMultipartUploadXml, OversizeAndDeepBodiesAreRefusedBeforeParsing) {
  std::string big = Complete(std::string(kMaxCompleteXmlBytes, ' '));
  EXPECT_FALSE(ParseCompleteMultipartUpload(big).ok());
  std::string deep = Complete("<Part><PartNumber><a><b>1</b></a></PartNumber></Part>");
  Result<std::vector<CompletedPart>> parts = ParseCompleteMultipartUpload(deep);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().aws_code(), "MalformedXML");
}

TEST(CompleteMultipartUploadXml, TenThousandPartsFitAndOneMoreDoesNot) {
  std::string body;
  for (int i = 1; i <= kMaxPartNumber; ++i) body += Part(i, "\"0123456789abcdef0123456789abcdef\"");
  ASSERT_LT(Complete(body).size(), kMaxCompleteXmlBytes);
  Result<std::vector<CompletedPart>> parts = ParseCompleteMultipartUpload(Complete(body));
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->size(), 10000u);
  EXPECT_FALSE(ParseCompleteMultipartUpload(Complete(body + Part(1, "x"))).ok());
}

std::vector<CompletedPart> Want(std::initializer_list<std::pair<int, std::string>> parts) {
  std::vector<CompletedPart> out;
  for (const auto& [n, etag] : parts) out.push_back({n, etag, {}});
  return out;
}

TEST(CompletionRules, ChoosesTheNamedPartsInOrder) {
  std::vector<StoredPart> stored = {{3, 10, "c"}, {1, kMinPartBytes, "a"}, {2, kMinPartBytes, "b"}};
  Result<std::vector<StoredPart>> chosen = CheckCompletion(Want({{1, "a"}, {3, "c"}}), stored);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  ASSERT_EQ(chosen->size(), 2u);
  EXPECT_EQ((*chosen)[0].part_number, 1);
  EXPECT_EQ((*chosen)[1].part_number, 3);
}

TEST(CompletionRules, OrderEtagsAndSizesAreChecked) {
  std::vector<StoredPart> stored = {{1, kMinPartBytes, "a"}, {2, kMinPartBytes - 1, "b"}, {3, 1, "c"}};
  EXPECT_EQ(CheckCompletion(Want({{2, "b"}, {1, "a"}}), stored).status().aws_code(), "InvalidPartOrder");
  EXPECT_EQ(CheckCompletion(Want({{1, "a"}, {1, "a"}}), stored).status().aws_code(), "InvalidPartOrder");
  EXPECT_EQ(CheckCompletion(Want({{1, "x"}}), stored).status().aws_code(), "InvalidPart");
  EXPECT_EQ(CheckCompletion(Want({{4, "d"}}), stored).status().aws_code(), "InvalidPart");
  EXPECT_EQ(CheckCompletion(Want({{2, "b"}, {3, "c"}}), stored).status().aws_code(), "EntityTooSmall");
  // The last part may be small, and so may a lone part.
  EXPECT_TRUE(CheckCompletion(Want({{1, "a"}, {3, "c"}}), stored).ok());
  EXPECT_TRUE(CheckCompletion(Want({{3, "c"}}), stored).ok());
}

TEST(MultipartEtag, IsTheMd5OfThePartMd5sWithTheCount) {
  // What S3 documents and every client checks: md5(md5(p1) || md5(p2)) + "-2".
  std::string p1(100, 'x'), p2 = "tail";
  std::vector<StoredPart> parts = {{1, p1.size(), Md5Hex(p1)}, {2, p2.size(), Md5Hex(p2)}};
  std::string expected = Md5Hex(ChecksumOf(ChecksumAlgorithm::kMd5, p1) + ChecksumOf(ChecksumAlgorithm::kMd5, p2)) + "-2";
  EXPECT_EQ(MultipartEtag(parts), expected);
}

}  // namespace
}  // namespace lathe::s3
