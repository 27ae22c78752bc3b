// `lathe backup --to s3://bucket/prefix` and `lathe restore --from s3://bucket/prefix`: a backup
// (store/data_dir_backup.h) made in a temporary folder ($TMPDIR) and PUT file by file under the
// prefix, manifest.json last, so that a prefix without it is an unfinished upload that restore
// refuses; a restore GETs manifest.json, then exactly the files it lists (paths checked before
// any is written), and restores from that copy, every file checked against the manifest.
// The S3 endpoint and keys are the client commands' (client.h): --endpoint, $AWS_ENDPOINT_URL, ...
#pragma once

#include <string>

#include "cli/client.h"
#include "core/status.h"
#include "store/data_dir_backup.h"

namespace lathe::cli {

// Refuses a prefix that holds a backup already (its manifest.json).
Result<store::BackupReport> BackupToS3(const std::string& data_dir, const std::string& uri, const ClientOptions& client,
                                       const std::string& lathe_version);

Result<store::RestoreReport> RestoreFromS3(const std::string& uri, const std::string& data_dir, const ClientOptions& client);

}  // namespace lathe::cli
