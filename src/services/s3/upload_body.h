// Where an upload's bytes come from, in one place: PutObject (and later UploadPart) read the
// request body through ReadUploadBody only.
#pragma once

#include <map>
#include <string>

#include "aws/rest_xml.h"
#include "services/s3/objects.h"

namespace lathe::s3 {

// Until the verified streaming reader is in, the gateway buffers an upload whole, within this bound.
inline constexpr size_t kMaxBufferedUploadBytes = 8u << 20;

// Whether the request uploads an object's bytes: PUT /{Bucket}/{Key+} without a subresource or
// x-amz-copy-source.
bool UploadsBody(const http::Request& request);

// Streams the request body into `body`, checked against what the request claims (its signed
// payload hash, Content-MD5, x-amz-checksum-*); the checksums it carried, verified, go to
// *checksums ("CRC32" -> base64). Any error leaves `body` to be dropped, storing nothing.
Status ReadUploadBody(const aws::RestXmlInput& in, ObjectBody* body, std::map<std::string, std::string>* checksums);

}  // namespace lathe::s3
