// s3:// names for the `lathe data` commands. The data layer reads and writes through an Env; this
// one maps s3:// names onto local copies in a temporary folder, so that the commands run
// unchanged and every message, report and manifest names the s3:// URI the user gave ("s3://b/
// train.jsonl:12:5: error: ..."), never the copy.
//
//   inputs:  Input("s3://b/k") downloads the object (streamed) to the temporary folder;
//   outputs: OutputFolder("s3://b/prefix/") names a local folder the command writes into as if it
//            were the prefix; Upload(...) then PUTs each file to prefix + its name.
// The temporary folder goes when the staging does.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/s3_client.h"
#include "core/env.h"
#include "core/status.h"

namespace lathe::cli {

class S3Staging {
 public:
  explicit S3Staging(const ClientOptions& options);
  ~S3Staging();

  // Downloads an s3:// object (once per URI) and maps its URI onto the copy; other names are
  // left to the file system. The name to hand the data layer is the URI itself.
  Status Input(const std::string& name);
  // Maps an s3:// prefix (its URI, with or without a trailing '/') onto a new empty local folder.
  Status OutputFolder(const std::string& uri);
  // PUTs the named files of an OutputFolder (names relative to it) to the prefix; stops at the
  // first that fails, naming it.
  Status Upload(const std::string& uri, const std::vector<std::string>& names);
  // Whether s3://bucket/key exists (HeadObject): NotFound is false, other errors are errors.
  Result<bool> Exists(const service::S3Uri& object);

  // Reads and writes s3:// names through their local copies, everything else through the
  // default Env. Valid as long as this staging.
  Env* env() { return env_.get(); }

 private:
  Result<std::string> TempFolder();

  S3Client client_;
  std::string temp_;                              // "" until first needed
  std::map<std::string, std::string> files_;      // input URI -> local copy
  std::map<std::string, std::string> folders_;    // output prefix ending in '/' -> local folder
  std::unique_ptr<Env> env_;
  friend class MappedEnv;
};

// Whether a command argument names an s3:// object (CLI11's ExistingFile check is skipped for it).
bool IsS3Name(const std::string& name);

}  // namespace lathe::cli
