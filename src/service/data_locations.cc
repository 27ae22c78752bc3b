#include "service/data_locations.h"

#include <filesystem>

namespace lathe::service {
namespace {

Result<std::string> LocalPath(const std::string& uri) {
  std::string path = uri;
  if (uri.rfind("file://", 0) == 0) path = uri.substr(7);
  else if (uri.rfind("s3://", 0) == 0)
    return Status::InvalidArgument(uri + ": this lathe server reads file:// URIs and absolute paths; its S3 "
                                         "store is not available yet (use file:///absolute/path)");
  if (path.empty() || path[0] != '/')
    return Status::InvalidArgument(uri + ": expected file:///absolute/path or an absolute path");
  return path;
}

}  // namespace

Result<std::string> LocalDataLocations::FileForReading(const std::string& uri) const {
  auto path = LocalPath(uri);
  if (!path.ok()) return path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(*path, ec)) return Status::NotFound(uri + ": no such file");
  return path;
}

Result<std::string> LocalDataLocations::FolderForWriting(const std::string& uri) const {
  auto path = LocalPath(uri);
  if (!path.ok()) return path;
  std::error_code ec;
  std::filesystem::create_directories(*path, ec);
  if (ec) return Status::IOError(uri + ": cannot create the output folder: " + ec.message());
  return path;
}

}  // namespace lathe::service
