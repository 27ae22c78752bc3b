// Resource ids, ARNs and timestamps in the shapes AWS uses, so clients that parse them keep working.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lathe {

// Where lathe's ARNs say they live: arn:aws:bedrock:<region>:<account>:...
struct ArnScope {
  std::string region = "us-east-1";
  std::string account = "000000000000";
};

// A fresh random id of `length` lowercase letters and digits (Bedrock's job and model ids).
std::string NewResourceId(size_t length = 12);

// arn:aws:<service>:<region>:<account>:<resource>, the shape of every AWS ARN; region and account
// are empty for global resources (IAM's region, AWS-managed policies' account "aws").
std::string MakeArn(std::string_view service, std::string_view region, std::string_view account,
                    std::string_view resource);
// The account's root identity: arn:aws:iam::<account>:root.
std::string RootArn(std::string_view account);

// arn:aws:bedrock:<region>:<account>:<resource>, e.g. resource "model-customization-job/abc".
std::string BedrockArn(const ArnScope& scope, std::string_view resource);

// The region part of any ARN (arn:aws:<service>:<region>:...), or "" when `s` is not one.
std::string ArnRegion(std::string_view s);
// `scope` with another region, unless `region` is empty.
ArnScope InRegion(ArnScope scope, const std::string& region);

// The resource part of a Bedrock ARN ("custom-model/x/y"), or "" when `s` is not one.
std::string ArnResource(std::string_view s);

// Milliseconds since the Unix epoch, now.
int64_t NowMillis();
// ISO-8601 UTC with milliseconds, as AWS writes timestamps: 2026-11-28T09:15:02.123Z
std::string Iso8601(int64_t millis);
// Parses what Iso8601 writes (and the same without fractions or with an offset of +00:00);
// -1 when malformed.
int64_t ParseIso8601(std::string_view s);

}  // namespace lathe
