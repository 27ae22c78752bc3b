// Small pieces every protocol shares: request ids, the generic error names of each protocol,
// the JSON nesting bound, and text that is safe to echo back.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/service.h"
#include "core/status.h"

namespace lathe::aws {

// A fresh id shaped like AWS's request ids: 8-4-4-4-12 lowercase hex-ish characters.
std::string NewRequestId();

// {AWS error code, HTTP status} for a Status: its own when it carries one (Status::Aws), else
// the protocol's usual name for its generic code (ValidationException / ValidationError /
// InvalidArgument, ResourceNotFoundException, ThrottlingException, ...).
std::pair<std::string, int> ErrorCodeFor(Protocol protocol, const Status& status);

// Request text fit to quote in a message: at most max_bytes, printable ASCII only.
std::string Printable(std::string_view s, size_t max_bytes);

int HexDigit(char c);  // -1 when c is not a hex digit

// The error writers of the protocols (aws::WriteError picks one).
void WriteJsonError(Protocol protocol, const Status& error, const RequestContext& context, http::Response* response);
// `details` are S3's extra members, written between Message and RequestId in the order given
// (<BucketName>, <Resource>, ...); botocore returns them in the error's dict.
using XmlErrorDetails = std::vector<std::pair<std::string, std::string>>;
void WriteRestXmlError(const Status& error, const RequestContext& context, http::Response* response,
                       const XmlErrorDetails& details = {});

}  // namespace lathe::aws
