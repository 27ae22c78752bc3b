// Where an upload's bytes come from, in one place: PutObject (and later UploadPart) read the
// request body through ReadUploadBody only.
#pragma once

#include <map>
#include <string>

#include "aws/rest_xml.h"
#include "services/s3/objects.h"

namespace lathe::s3 {

// Streams the request body into `body` in 1 MiB pieces, checked as S3 checks it
// (aws/s3_upload_body.h: the signed payload hash or aws-chunked signatures, Content-MD5, one
// x-amz-checksum-*); the flexible checksum it carried, verified, goes to *checksums
// ("CRC32" -> base64). Any error leaves `body` to be dropped, which stores nothing.
Status ReadUploadBody(const aws::RestXmlInput& in, ObjectBody* body, std::map<std::string, std::string>* checksums);

}  // namespace lathe::s3
