// S3's bucket semantics without the wire: names, location rules, ownership, listing, deletion,
// and persistence across a reopened store.
#include "services/s3/backend.h"

#include <gtest/gtest.h>

#include "services/s3/names.h"
#include "test_util.h"

namespace lathe::s3 {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";
constexpr char kOther[] = "210987654321";

class S3BackendTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(size_t max_buckets = kMaxBucketsPerAccount) {
    backend_.reset();
    store_.reset();
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    backend_ = std::make_unique<S3Backend>(store_.get(), max_buckets);
  }
  Result<Bucket> Create(const std::string& name, const std::string& region,
                        std::optional<std::string> constraint = std::nullopt, const std::string& account = kAccount) {
    return backend_->CreateBucket(CreateBucketInput{account, name, region, std::move(constraint)});
  }
  std::vector<std::string> Names(const BucketPage& page) {
    std::vector<std::string> out;
    for (const Bucket& b : page.buckets) out.push_back(b.name);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<S3Backend> backend_;
};

ListBucketsInput Mine() {
  ListBucketsInput in;
  in.account = kAccount;
  return in;
}

TEST(BucketNameTest, AcceptsWhatAwsAccepts) {
  for (const char* ok : {"abc", "bedrock-finetuning-your-unique-name", "my.bucket.name", "a1-2.b3", "123",
                         "192.168.5", "1.2.3.4.5", "xn-abc", "abc-s3alia"})
    EXPECT_TRUE(ValidateBucketName(ok).ok()) << ok << ": " << ValidateBucketName(ok).message();
  EXPECT_TRUE(ValidateBucketName(std::string(63, 'a')).ok());
}

TEST(BucketNameTest, RefusesEachRuleWithInvalidBucketName) {
  const std::pair<std::string, std::string> cases[] = {
      {"ab", "3 to 63"},
      {std::string(64, 'a'), "3 to 63"},
      {"", "3 to 63"},
      {"My-Bucket", "lowercase"},
      {"my_bucket", "lowercase"},
      {"my bucket", "lowercase"},
      {"-abc", "begin and end"},
      {"abc-", "begin and end"},
      {".abc", "begin and end"},
      {"a..b", "adjacent periods"},
      {"192.168.5.4", "IP address"},
      {"xn--abc", "xn--"},
      {"sthree-abc", "sthree-"},
      {"amzn-s3-demo-bucket", "amzn-s3-demo-"},
      {"abc-s3alias", "-s3alias"},
      {"abc--ol-s3", "--ol-s3"},
      {"abc.mrap", ".mrap"},
      {"abc--x-s3", "--x-s3"},
      {"abc--table-s3", "--table-s3"},
  };
  for (const auto& [name, why] : cases) {
    Status s = ValidateBucketName(name);
    EXPECT_EQ(s.aws_code(), "InvalidBucketName") << name;
    EXPECT_EQ(s.http_status(), 400) << name;
    EXPECT_NE(s.message().find(why), std::string::npos) << name << ": " << s.message();
  }
}

TEST(BucketNameTest, RegionNamesHaveTheirShape) {
  for (const char* ok : {"us-east-1", "ap-south-1", "us-gov-west-1", "eu-central-2"}) EXPECT_TRUE(IsRegionName(ok)) << ok;
  for (const char* bad : {"", "EU", "us-east", "useast-1", "us--1", "US-EAST-1", "us-east-1a", "u-east-1",
                          "us-east-1-", "us-east-x"})
    EXPECT_FALSE(IsRegionName(bad)) << bad;
}

TEST_F(S3BackendTest, CreatesInTheRequestsRegionAndFindsIt) {
  Result<Bucket> b = Create("bedrock-finetuning-your-unique-name", "ap-south-1", "ap-south-1");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->region, "ap-south-1");
  EXPECT_EQ(b->account, kAccount);
  EXPECT_GT(b->created_ms, 0);
  Result<Bucket> got = backend_->GetBucket(kAccount, "bedrock-finetuning-your-unique-name");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->region, "ap-south-1");
  EXPECT_EQ(got->created_ms, b->created_ms);

  Result<Bucket> east = Create("plain-east", "us-east-1");
  ASSERT_TRUE(east.ok());
  EXPECT_EQ(east->region, "us-east-1");
  // us-east-1 may create a bucket in another region.
  Result<Bucket> elsewhere = Create("from-east-to-west", "us-east-1", "eu-west-1");
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(elsewhere->region, "eu-west-1");
}

TEST_F(S3BackendTest, LocationConstraintRulesAreAwss) {
  // Another region's endpoint: the constraint is required and must be that region.
  Result<Bucket> b = Create("no-constraint", "ap-south-1");
  EXPECT_EQ(b.status().aws_code(), "IllegalLocationConstraintException");
  EXPECT_EQ(b.status().http_status(), 400);
  EXPECT_NE(b.status().message().find("unspecified location constraint"), std::string::npos);
  b = Create("other-constraint", "ap-south-1", "eu-west-1");
  EXPECT_EQ(b.status().aws_code(), "IllegalLocationConstraintException");
  EXPECT_NE(b.status().message().find("The eu-west-1 location constraint is incompatible"), std::string::npos);
  b = Create("east-constraint", "ap-south-1", "us-east-1");
  EXPECT_EQ(b.status().aws_code(), "IllegalLocationConstraintException");
  // us-east-1 itself is never named.
  b = Create("east-named", "us-east-1", "us-east-1");
  EXPECT_EQ(b.status().aws_code(), "InvalidLocationConstraint");
  // Not a region at all.
  for (const char* bad : {"mars-north-1x", "EU", "x"}) {
    b = Create("bad-constraint", "us-east-1", bad);
    EXPECT_EQ(b.status().aws_code(), "InvalidLocationConstraint") << bad;
    EXPECT_EQ(b.status().http_status(), 400);
  }
  // None of the refusals created anything.
  Result<BucketPage> all = backend_->ListBuckets(Mine());
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->buckets.empty());
}

TEST_F(S3BackendTest, InvalidNamesAreRefusedByEveryOperation) {
  EXPECT_EQ(Create("Bad_Name", "us-east-1").status().aws_code(), "InvalidBucketName");
  EXPECT_EQ(backend_->GetBucket(kAccount, "Bad_Name").status().aws_code(), "InvalidBucketName");
  EXPECT_EQ(backend_->DeleteBucket(kAccount, "a..b").aws_code(), "InvalidBucketName");
}

TEST_F(S3BackendTest, CreatingTwiceFollowsAwsIncludingUsEast1sLegacy) {
  ASSERT_TRUE(Create("twice-south", "ap-south-1", "ap-south-1").ok());
  Result<Bucket> again = Create("twice-south", "ap-south-1", "ap-south-1");
  EXPECT_EQ(again.status().aws_code(), "BucketAlreadyOwnedByYou");
  EXPECT_EQ(again.status().http_status(), 409);

  // us-east-1 answers success for a bucket the caller already has there...
  Result<Bucket> first = Create("twice-east", "us-east-1");
  ASSERT_TRUE(first.ok());
  Result<Bucket> second = Create("twice-east", "us-east-1");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->created_ms, first->created_ms);  // the same bucket, not a new one
  // ...but not for one it has in another region.
  EXPECT_EQ(Create("twice-south", "us-east-1").status().aws_code(), "BucketAlreadyOwnedByYou");

  // Another account's bucket: the namespace is shared.
  Result<Bucket> theirs = Create("twice-east", "us-east-1", std::nullopt, kOther);
  EXPECT_EQ(theirs.status().aws_code(), "BucketAlreadyExists");
  EXPECT_EQ(theirs.status().http_status(), 409);
  EXPECT_EQ(backend_->GetBucket(kOther, "twice-east").status().aws_code(), "AccessDenied");
  EXPECT_EQ(backend_->DeleteBucket(kOther, "twice-east").aws_code(), "AccessDenied");
  EXPECT_TRUE(backend_->GetBucket(kAccount, "twice-east").ok());
}

TEST_F(S3BackendTest, ListsOwnBucketsByNameWithPrefixRegionAndPages) {
  for (const char* n : {"charlie", "alpha", "bravo", "delta"}) ASSERT_TRUE(Create(n, "us-east-1").ok());
  ASSERT_TRUE(Create("south-one", "ap-south-1", "ap-south-1").ok());
  ASSERT_TRUE(Create("not-mine", "us-east-1", std::nullopt, kOther).ok());

  Result<BucketPage> all = backend_->ListBuckets(Mine());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"alpha", "bravo", "charlie", "delta", "south-one"}));
  EXPECT_TRUE(all->continuation_token.empty());

  ListBucketsInput in = Mine();
  in.max_buckets = 2;
  Result<BucketPage> p1 = backend_->ListBuckets(in);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(Names(*p1), (std::vector<std::string>{"alpha", "bravo"}));
  ASSERT_FALSE(p1->continuation_token.empty());
  in.continuation_token = p1->continuation_token;
  Result<BucketPage> p2 = backend_->ListBuckets(in);
  EXPECT_EQ(Names(*p2), (std::vector<std::string>{"charlie", "delta"}));
  in.continuation_token = p2->continuation_token;
  Result<BucketPage> p3 = backend_->ListBuckets(in);
  EXPECT_EQ(Names(*p3), (std::vector<std::string>{"south-one"}));
  EXPECT_TRUE(p3->continuation_token.empty());

  ListBucketsInput region = Mine();
  region.bucket_region = "ap-south-1";
  EXPECT_EQ(Names(*backend_->ListBuckets(region)), (std::vector<std::string>{"south-one"}));
  ListBucketsInput prefix = Mine();
  prefix.prefix = "b";
  EXPECT_EQ(Names(*backend_->ListBuckets(prefix)), (std::vector<std::string>{"bravo"}));

  ListBucketsInput bad = Mine();
  bad.max_buckets = 0;
  EXPECT_EQ(backend_->ListBuckets(bad).status().aws_code(), "InvalidArgument");
  bad.max_buckets = kMaxListBuckets + 1;
  EXPECT_EQ(backend_->ListBuckets(bad).status().aws_code(), "InvalidArgument");
}

TEST_F(S3BackendTest, DeletesAndAsksTheContentsCheckFirst) {
  ASSERT_TRUE(Create("holds-things", "us-east-1").ok());
  bool holds = true;
  std::string asked;
  backend_->set_contents_check([&](const std::string& bucket) -> Result<bool> {
    asked = bucket;
    return holds;
  });
  Status s = backend_->DeleteBucket(kAccount, "holds-things");
  EXPECT_EQ(s.aws_code(), "BucketNotEmpty");
  EXPECT_EQ(s.http_status(), 409);
  EXPECT_EQ(asked, "holds-things");
  EXPECT_TRUE(backend_->GetBucket(kAccount, "holds-things").ok());

  holds = false;
  EXPECT_TRUE(backend_->DeleteBucket(kAccount, "holds-things").ok());
  EXPECT_EQ(backend_->GetBucket(kAccount, "holds-things").status().aws_code(), "NoSuchBucket");
  EXPECT_EQ(backend_->GetBucket(kAccount, "holds-things").status().http_status(), 404);
  EXPECT_EQ(backend_->DeleteBucket(kAccount, "holds-things").aws_code(), "NoSuchBucket");
  // The name is free again, in any region.
  EXPECT_TRUE(Create("holds-things", "ap-south-1", "ap-south-1").ok());
}

TEST_F(S3BackendTest, BucketsSurviveAReopenedStore) {
  ASSERT_TRUE(Create("kept-south", "ap-south-1", "ap-south-1").ok());
  Open();
  Result<Bucket> b = backend_->GetBucket(kAccount, "kept-south");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->region, "ap-south-1");
  EXPECT_EQ(Create("kept-south", "ap-south-1", "ap-south-1").status().aws_code(), "BucketAlreadyOwnedByYou");
}

TEST_F(S3BackendTest, TheBucketQuotaIsPerAccount) {
  Open(/*max_buckets=*/2);
  ASSERT_TRUE(Create("quota-one", "us-east-1").ok());
  ASSERT_TRUE(Create("quota-two", "us-east-1").ok());
  Result<Bucket> third = Create("quota-three", "us-east-1");
  EXPECT_EQ(third.status().aws_code(), "TooManyBuckets");
  EXPECT_EQ(third.status().http_status(), 400);
  EXPECT_TRUE(Create("quota-theirs", "us-east-1", std::nullopt, kOther).ok());
  ASSERT_TRUE(backend_->DeleteBucket(kAccount, "quota-one").ok());
  EXPECT_TRUE(Create("quota-three", "us-east-1").ok());
}

}  // namespace
}  // namespace lathe::s3
