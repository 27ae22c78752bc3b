// HTTP dates (RFC 7231 section 7.1.1.1), as S3 writes Last-Modified and reads If-Modified-Since.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lathe::s3 {

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate; milliseconds dropped).
std::string FormatHttpDate(int64_t millis);
// IMF-fixdate, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") or asctime ("Sun Nov  6 08:49:37 1994"),
// in milliseconds; -1 when `s` is none of them (HTTP says to ignore such a date).
int64_t ParseHttpDate(std::string_view s);

}  // namespace lathe::s3
