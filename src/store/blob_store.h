// The bytes of S3 objects and multipart parts on disk. A blob is immutable once committed and is
// named by a random id, never by an object key: no key (any UTF-8, "..", "/", "%") can name a path.
//
//   ROOT/blobs/<first 2 hex of id>/<id>    committed blobs
//   ROOT/tmp/<id>.part                     blobs being written
//
// A blob appears whole or not at all: it is streamed into tmp/, fsynced, renamed into blobs/ and
// the directory fsynced. Which blobs are live is the object index's business (object_index.h):
// a blob committed here but not yet recorded there, or no longer recorded there, is an orphan,
// removed by RemoveOrphans at start-up. So a crash at any moment leaves old or new, never torn,
// and no stray files once the server has started again.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace lathe::store {

class BlobStore {
 public:
  // Creates ROOT/blobs and ROOT/tmp when missing. `env` outlives the store.
  static Result<std::unique_ptr<BlobStore>> Open(Env* env, std::string root);

  // A blob being written. Destroying an uncommitted writer removes its temporary file.
  class Writer {
   public:
    virtual ~Writer() = default;
    // An error (disk full, I/O) is final: the writer is spent and its file removed.
    virtual Status Append(std::string_view data) = 0;
    virtual uint64_t size() const = 0;
    // Syncs and renames the blob into place; returns its id. The writer is spent afterwards.
    virtual Result<std::string> Commit() = 0;
  };
  Result<std::unique_ptr<Writer>> Create();

  // A committed blob's bytes, and its size.
  Status Open(const std::string& id, std::unique_ptr<RandomAccessFile>* file, uint64_t* size) const;
  // The file of a committed blob, for readers that want a path (a training job's data).
  std::string PathOf(const std::string& id) const;
  // OK when already gone (removal after a crash may repeat).
  Status Remove(const std::string& id);
  // Removes every temporary file and every committed blob not in `live`; returns how many. Run it
  // at start-up, before any Create(): a writer's temporary file counts as an orphan. Files under
  // blobs/ that are not blob-shaped (not lathe's) are left alone and named in *left_alone.
  Result<size_t> RemoveOrphans(const std::set<std::string>& live, std::vector<std::string>* left_alone = nullptr);
  // Whether `id` has a blob id's shape (32 lowercase hex): ids read back from the index are checked.
  static bool IsBlobId(std::string_view id);

 private:
  BlobStore(Env* env, std::string root) : env_(env), root_(std::move(root)) {}
  Env* env_;
  std::string root_;
};

}  // namespace lathe::store
