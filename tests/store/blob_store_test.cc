#include "store/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "test_util.h"

namespace lathe::store {
namespace {

namespace fs = std::filesystem;
using lathe::testing::FullDiskEnv;
using lathe::testing::ReadFile;
using lathe::testing::TempDir;

// Every file under dir, relative to it, sorted.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadBlob(BlobStore& store, const std::string& id) {
  std::unique_ptr<RandomAccessFile> f;
  uint64_t size = 0;
  Status s = store.Open(id, &f, &size);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return "";
  std::string data(size, '\0');
  EXPECT_TRUE(f->Read(0, size, data.data()).ok());
  return data;
}

std::string Put(BlobStore& store, const std::string& data) {
  auto w = store.Create();
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE((*w)->Append(data).ok());
  auto id = (*w)->Commit();
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : "";
}

TEST(BlobStore, CommittedBlobsAreReadBackAndRemoved) {
  TempDir dir;
  auto store = BlobStore::Open(Env::Default(), dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto w = (*store)->Create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("hello, ").ok());
  ASSERT_TRUE((*w)->Append(std::string(1 << 20, 'x')).ok());  // past the Env's write buffer
  ASSERT_TRUE((*w)->Append("").ok());
  EXPECT_EQ((*w)->size(), 7u + (1u << 20));
  auto id = (*w)->Commit();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(BlobStore::IsBlobId(*id));
  EXPECT_EQ(FilesUnder(dir.path()), std::vector<std::string>{"blobs/" + id->substr(0, 2) + "/" + *id});
  EXPECT_EQ((*store)->PathOf(*id), dir.path() + "/blobs/" + id->substr(0, 2) + "/" + *id);
  EXPECT_EQ(ReadBlob(**store, *id), "hello, " + std::string(1 << 20, 'x'));

  // Spent after Commit.
  EXPECT_FALSE((*w)->Append("more").ok());
  EXPECT_FALSE((*w)->Commit().ok());

  ASSERT_TRUE((*store)->Remove(*id).ok());
  EXPECT_TRUE(FilesUnder(dir.path()).empty());
  EXPECT_TRUE((*store)->Remove(*id).ok());  // again, as after a crash
  std::unique_ptr<RandomAccessFile> f;
  uint64_t size;
  EXPECT_EQ((*store)->Open(*id, &f, &size).code(), Status::Code::kNotFound);
}

TEST(BlobStore, EmptyBlobsAndDistinctIds) {
  TempDir dir;
  auto store = BlobStore::Open(Env::Default(), dir.path());
  ASSERT_TRUE(store.ok());
  const std::string a = Put(**store, ""), b = Put(**store, "");
  EXPECT_NE(a, b);
  EXPECT_EQ(ReadBlob(**store, a), "");
}

TEST(BlobStore, IdsThatAreNotBlobIdsNameNoPath) {
  TempDir dir;
  auto store = BlobStore::Open(Env::Default(), dir.path());
  ASSERT_TRUE(store.ok());
  std::unique_ptr<RandomAccessFile> f;
  uint64_t size;
  for (const std::string bad : {"", "../../etc/passwd", "0123456789abcdef0123456789ABCDEF",
                                "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
                                "../0123456789abcdef0123456789abc"}) {
    EXPECT_FALSE(BlobStore::IsBlobId(bad)) << bad;
    EXPECT_EQ((*store)->Open(bad, &f, &size).code(), Status::Code::kCorruption) << bad;
    EXPECT_EQ((*store)->Remove(bad).code(), Status::Code::kCorruption) << bad;
  }
  EXPECT_TRUE(BlobStore::IsBlobId("0123456789abcdef0123456789abcdef"));
}

TEST(BlobStore, AnUncommittedWriterLeavesNoFile) {
  TempDir dir;
  auto store = BlobStore::Open(Env::Default(), dir.path());
  ASSERT_TRUE(store.ok());
  {
    auto w = (*store)->Create();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("half an object").ok());
    EXPECT_EQ(FilesUnder(dir.path()).size(), 1u);  // its temporary file, under tmp/
    EXPECT_EQ(FilesUnder(dir.path())[0].rfind("tmp/", 0), 0u);
  }
  EXPECT_TRUE(FilesUnder(dir.path()).empty());
}

TEST(BlobStore, RemoveOrphansAfterACrash) {
  TempDir dir;
  auto store = BlobStore::Open(Env::Default(), dir.path());
  ASSERT_TRUE(store.ok());
  const std::string live = Put(**store, "recorded in the index");
  const std::string orphan = Put(**store, "committed, but the crash came before the index row");
  // A crash mid-upload: the writer's temporary file stays (simulated by writing one by hand).
  const std::string temp = dir.Write("tmp/0123456789abcdef0123456789abcdef.part", "half");
  // Not lathe's: left alone, and named.
  const std::string stranger = dir.Write("blobs/README", "someone's notes");
  const std::string odd_name = dir.Write("blobs/" + live.substr(0, 2) + "/notes.txt", "x");
  const std::string misplaced = dir.Write("blobs/zz/" + orphan, "x");

  auto reopened = BlobStore::Open(Env::Default(), dir.path());
  ASSERT_TRUE(reopened.ok());
  std::vector<std::string> left;
  auto removed = (*reopened)->RemoveOrphans({live}, &left);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2u);
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_FALSE(fs::exists((*reopened)->PathOf(orphan)));
  EXPECT_EQ(ReadBlob(**reopened, live), "recorded in the index");
  EXPECT_TRUE(fs::exists(stranger));
  EXPECT_TRUE(fs::exists(odd_name));
  EXPECT_TRUE(fs::exists(misplaced));
  std::vector<std::string> expected = {stranger, odd_name, dir.path() + "/blobs/zz"};
  std::sort(left.begin(), left.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(left, expected);
  // Nothing left to remove the second time.
  EXPECT_EQ(*(*reopened)->RemoveOrphans({live}), 0u);
}

TEST(BlobStore, AFullDiskFailsTheWriterAndLeavesNoFile) {
  TempDir dir;
  FullDiskEnv env(dir.path() + "/tmp/", /*room=*/100 * 1024);
  auto store = BlobStore::Open(&env, dir.path());
  ASSERT_TRUE(store.ok());
  auto w = (*store)->Create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(std::string(64 * 1024, 'a')).ok());
  Status s = (*w)->Append(std::string(64 * 1024, 'b'));
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.ToString();
  EXPECT_TRUE(FilesUnder(dir.path()).empty());  // removed at once, not when the writer dies
  EXPECT_FALSE((*w)->Append("x").ok());          // spent
  EXPECT_FALSE((*w)->Commit().ok());
  EXPECT_TRUE(FilesUnder(dir.path()).empty());
}

TEST(BlobStore, AFailedDirectorySyncCommitsNothing) {
  TempDir dir;
  FullDiskEnv env(dir.path() + "/tmp/", /*room=*/1 << 20);
  auto store = BlobStore::Open(&env, dir.path());
  ASSERT_TRUE(store.ok());
  auto w = (*store)->Create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("bytes").ok());
  env.fail_sync_dir = true;
  auto id = (*w)->Commit();
  EXPECT_EQ(id.status().code(), Status::Code::kIOError);
  EXPECT_TRUE(FilesUnder(dir.path()).empty());
}

TEST(BlobStore, LargeAppendsReachTheFileWhole) {
  // 1 MiB pieces go to the file as they are (one Append each), not split or gathered.
  TempDir dir;
  FullDiskEnv env(dir.path() + "/tmp/", /*room=*/64 << 20);
  auto store = BlobStore::Open(&env, dir.path());
  ASSERT_TRUE(store.ok());
  auto w = (*store)->Create();
  ASSERT_TRUE(w.ok());
  std::string chunk(1 << 20, '\0');
  for (int i = 0; i < 8; ++i) {
    std::fill(chunk.begin(), chunk.end(), static_cast<char>('a' + i));
    ASSERT_TRUE((*w)->Append(chunk).ok());
  }
  EXPECT_EQ(env.appends, 8);
  auto id = (*w)->Commit();
  ASSERT_TRUE(id.ok());
  const std::string data = ReadBlob(**store, *id);
  ASSERT_EQ(data.size(), 8u << 20);
  EXPECT_EQ(data[0], 'a');
  EXPECT_EQ(data[(5u << 20) + 7], 'f');
  EXPECT_EQ(data.back(), 'h');
}

}  // namespace
}  // namespace lathe::store
