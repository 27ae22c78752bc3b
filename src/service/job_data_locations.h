// The job runner's DataLocations: file:// URIs and absolute paths under the file rules of
// LocalDataLocations (unchanged), s3:// URIs in lathe's own S3 store through JobObjectStore.
//
// s3:// as Bedrock treats it:
//  - request time: the URI's form only (bucket name syntax; an input names an object, not a
//    folder). Whether the bucket and object exist is found when the job runs;
//  - validation: the bucket must be the job's account's and the object must exist, else the job
//    fails with the URI in its failureMessage, in Bedrock's words ("Could not validate GetObject
//    permissions to access Amazon S3 bucket: B at key K") followed by what S3 said. The object is
//    copied to the job's folder: the job trains on that snapshot even if the object is overwritten;
//  - the end: the outputs go to <prefix>model-customization-job-<id>/..., one object per file,
//    uploaded once all of them are complete locally; any upload failing fails the job.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "service/data_locations.h"
#include "service/job_object_store.h"

namespace lathe::service {

class JobDataLocations : public DataLocations {
 public:
  // `objects` may be null (no S3 store: s3:// URIs are refused at request time). All outlive this.
  JobDataLocations(Env* env, const LocalDataLocations* local, JobObjectStore* objects)
      : env_(env), local_(local), objects_(objects) {}
  void set_object_store(JobObjectStore* objects) { objects_ = objects; }
  // For readers of folders (model imports), which fetch file by file.
  JobObjectStore* object_store() const { return objects_; }
  const LocalDataLocations* local() const { return local_; }

  Result<std::string> CheckInput(const std::string& uri) const override;
  Result<std::string> CheckOutput(const std::string& uri) const override;
  Result<std::string> FetchInput(const std::string& account, const std::string& input,
                                 const std::string& snapshot, uint64_t max_bytes) const override;
  Status PrepareOutput(const std::string& account, const std::string& output) const override;
  Result<std::string> PublishOutputs(const std::string& account, const std::string& output,
                                     const std::string& run_dir, const std::vector<std::string>& subdirs,
                                     const std::string& name) const override;

 private:
  Status NeedObjectStore(const std::string& uri) const;

  Env* env_;
  const LocalDataLocations* local_;
  JobObjectStore* objects_;
};

}  // namespace lathe::service
