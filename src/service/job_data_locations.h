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
//
// A job's role bounds what it reads and writes when the server installs a RoleAccess (IAM lives
// above this layer): s3:GetObject on each input object, s3:PutObject on the output prefix,
// checked in validation before a byte is read; a refusal fails the job in Bedrock's words.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "service/data_locations.h"
#include "service/job_object_store.h"

namespace lathe::service {

// Whether `role_arn` may do `action` ("s3:GetObject") on `resource_arn` ("arn:aws:s3:::b/k") for
// a job of `account`: "" when it may, or when the role is none IAM holds (nothing bounds it);
// otherwise the refusal, as AWS words it ("... is not authorized to perform: ...").
using RoleAccess = std::function<std::string(const std::string& account, const std::string& role_arn,
                                             const std::string& action, const std::string& resource_arn)>;

class JobDataLocations : public DataLocations {
 public:
  // `objects` may be null (no S3 store: s3:// URIs are refused at request time). All outlive this.
  JobDataLocations(Env* env, const LocalDataLocations* local, JobObjectStore* objects)
      : env_(env), local_(local), objects_(objects) {}
  void set_object_store(JobObjectStore* objects) { objects_ = objects; }
  // Empty (the default): a job's role bounds nothing.
  void set_role_access(RoleAccess role_access) { role_access_ = std::move(role_access); }
  // For readers of folders (model imports), which fetch file by file.
  JobObjectStore* object_store() const { return objects_; }
  const LocalDataLocations* local() const { return local_; }

  Result<std::string> CheckInput(const std::string& uri) const override;
  Result<std::string> CheckOutput(const std::string& uri) const override;
  Result<std::string> FetchInput(const std::string& account, const std::string& input,
                                 const std::string& snapshot, uint64_t max_bytes) const override;
  Status PrepareOutput(const std::string& account, const std::string& output) const override;
  Status CheckRoleAccess(const std::string& account, const std::string& role_arn,
                         const std::vector<std::string>& inputs, const std::string& output) const override;
  Result<std::string> PublishOutputs(const std::string& account, const std::string& output,
                                     const std::string& run_dir, const std::vector<std::string>& subdirs,
                                     const std::string& name) const override;

 private:
  Status NeedObjectStore(const std::string& uri) const;

  Env* env_;
  const LocalDataLocations* local_;
  JobObjectStore* objects_;
  RoleAccess role_access_;
};

}  // namespace lathe::service
