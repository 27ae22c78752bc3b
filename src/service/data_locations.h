// Where job data lives. Bedrock names S3 URIs; lathe reads file:// URIs and absolute paths now,
// and its own S3-compatible store later — behind this interface, so jobs don't change then.
#pragma once

#include <string>

#include "core/status.h"

namespace lathe::service {

class DataLocations {
 public:
  virtual ~DataLocations() = default;
  // A local file to read for `uri` (training or validation data).
  virtual Result<std::string> FileForReading(const std::string& uri) const = 0;
  // A local folder to write outputs into for `uri` (created if needed).
  virtual Result<std::string> FolderForWriting(const std::string& uri) const = 0;
};

// file:///abs/path and /abs/path. s3:// is refused with a message saying what works.
class LocalDataLocations : public DataLocations {
 public:
  Result<std::string> FileForReading(const std::string& uri) const override;
  Result<std::string> FolderForWriting(const std::string& uri) const override;
};

}  // namespace lathe::service
