#include "core/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace lathe {
namespace {

// Whether a temporary side file of `path` (path.tmp.*) exists.
bool HasTempFile(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string prefix = fs::path(path).filename().string() + ".tmp";
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  return false;
}


namespace fs = std::filesystem;
using lathe::testing::ReadFile;
using lathe::testing::TempDir;

TEST(AtomicFileWriter, UncommittedWriterLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.File("out.jsonl");
  {
    std::unique_ptr<AtomicFileWriter> w;
    ASSERT_TRUE(AtomicFileWriter::Open(Env::Default(), path, &w).ok());
    ASSERT_TRUE(w->Append("half a record").ok());
    EXPECT_TRUE(HasTempFile(path));  // data goes to the side file while writing
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(HasTempFile(path));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(AtomicFileWriter, UncommittedWriterKeepsTheOldFile) {
  TempDir dir;
  const std::string path = dir.Write("out.jsonl", "old contents\n");
  {
    std::unique_ptr<AtomicFileWriter> w;
    ASSERT_TRUE(AtomicFileWriter::Open(Env::Default(), path, &w).ok());
    ASSERT_TRUE(w->Append("new").ok());
    EXPECT_EQ(ReadFile(path), "old contents\n");
  }
  EXPECT_EQ(ReadFile(path), "old contents\n");
  EXPECT_FALSE(HasTempFile(path));
}

TEST(AtomicFileWriter, CommitReplacesTheFileAtomically) {
  TempDir dir;
  const std::string path = dir.Write("out.jsonl", "old contents\n");
  std::unique_ptr<AtomicFileWriter> w;
  ASSERT_TRUE(AtomicFileWriter::Open(Env::Default(), path, &w).ok());
  const std::string big(200000, 'x');  // larger than the write buffer
  ASSERT_TRUE(w->Append("line 1\n").ok());
  ASSERT_TRUE(w->Append(big).ok());
  ASSERT_TRUE(w->Append("\nline 3\n").ok());
  // Until Commit, readers see the old file whole.
  EXPECT_EQ(ReadFile(path), "old contents\n");
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(ReadFile(path), "line 1\n" + big + "\nline 3\n");
  EXPECT_FALSE(HasTempFile(path));
  w.reset();  // destroying a committed writer must not remove anything
  EXPECT_EQ(ReadFile(path), "line 1\n" + big + "\nline 3\n");
}

TEST(AtomicFileWriter, OpenFailsInMissingDirectory) {
  TempDir dir;
  std::unique_ptr<AtomicFileWriter> w;
  Status s = AtomicFileWriter::Open(Env::Default(), dir.File("no/such/dir/out"), &w);
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  EXPECT_EQ(w, nullptr);
}

TEST(WriteFileAtomically, WritesAndOverwrites) {
  TempDir dir;
  const std::string path = dir.File("f.txt");
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, "first").ok());
  EXPECT_EQ(ReadFile(path), "first");
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, "").ok());
  EXPECT_EQ(ReadFile(path), "");
  EXPECT_FALSE(HasTempFile(path));
}

TEST(ReadFileToString, ReadsWholeFileIncludingBinaryBytes) {
  TempDir dir;
  std::string contents = std::string("a\0b\r\n\xFF", 6) + std::string(300000, 'z');
  const std::string path = dir.Write("bin", contents);
  std::string out = "stale";
  ASSERT_TRUE(ReadFileToString(Env::Default(), path, &out).ok());
  EXPECT_EQ(out, contents);
}

TEST(ReadFileToString, EmptyFileGivesEmptyString) {
  TempDir dir;
  std::string out = "stale";
  ASSERT_TRUE(ReadFileToString(Env::Default(), dir.Write("empty", ""), &out).ok());
  EXPECT_EQ(out, "");
}

TEST(ReadFileToString, MissingFileIsNotFound) {
  TempDir dir;
  std::string out;
  Status s = ReadFileToString(Env::Default(), dir.File("missing"), &out);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
}

TEST(ReadFileToString, DirectoryIsAnError) {
  TempDir dir;
  std::string out;
  Status s = ReadFileToString(Env::Default(), dir.path(), &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
}

TEST(PosixEnv, FileOperations) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string a = dir.Write("a", "12345");
  uint64_t size = 0;
  ASSERT_TRUE(env->GetFileSize(a, &size).ok());
  EXPECT_EQ(size, 5u);
  EXPECT_EQ(env->GetFileSize(dir.File("nope"), &size).code(), Status::Code::kNotFound);
  EXPECT_TRUE(env->FileExists(a));
  ASSERT_TRUE(env->RenameFile(a, dir.File("b")).ok());
  EXPECT_FALSE(env->FileExists(a));
  EXPECT_EQ(ReadFile(dir.File("b")), "12345");
  ASSERT_TRUE(env->RemoveFile(dir.File("b")).ok());
  EXPECT_FALSE(env->FileExists(dir.File("b")));
  EXPECT_FALSE(env->RemoveFile(dir.File("b")).ok());
  ASSERT_TRUE(env->CreateDirs(dir.File("x/y/z")).ok());
  EXPECT_TRUE(fs::is_directory(dir.File("x/y/z")));
  EXPECT_TRUE(env->CreateDirs(dir.File("x/y/z")).ok());  // already there: fine

  std::unique_ptr<RandomAccessFile> r;
  ASSERT_TRUE(env->NewRandomAccessFile(dir.Write("r", "hello world"), &r).ok());
  char buf[5];
  ASSERT_TRUE(r->Read(6, 5, buf).ok());
  EXPECT_EQ(std::string(buf, 5), "world");
  EXPECT_FALSE(r->Read(8, 5, buf).ok());  // past the end
}

TEST(MemorySequentialFile, ReadsInPiecesThenSignalsEof) {
  auto f = NewMemorySequentialFile("abcdefg");
  char buf[4];
  size_t n = 99;
  ASSERT_TRUE(f->Read(4, buf, &n).ok());
  EXPECT_EQ(std::string(buf, n), "abcd");
  ASSERT_TRUE(f->Read(4, buf, &n).ok());
  EXPECT_EQ(std::string(buf, n), "efg");
  ASSERT_TRUE(f->Read(4, buf, &n).ok());
  EXPECT_EQ(n, 0u);
}

TEST(PosixEnv, DevicesAndPipesAreNotReadAsFiles) {
  // /dev/zero never ends and reports size 0: no size limit could hold on it.
  std::unique_ptr<SequentialFile> f;
  Status s = Env::Default()->NewSequentialFile("/dev/zero", &f);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "/dev/zero is a character device, not a regular file; save the data to a file and give its path");
  TempDir dir;
  const std::string fifo = dir.File("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  s = Env::Default()->NewSequentialFile(fifo, &f);  // without a writer: refused, not waited on
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is a pipe (FIFO), not a regular file"), std::string::npos) << s.message();
}

TEST(PosixEnv, GetChildrenAndSyncDir) {
  TempDir dir;
  Env* env = Env::Default();
  dir.Write("a", "1");
  dir.Write("sub/b", "2");
  std::vector<std::string> names = {"stale"};
  ASSERT_TRUE(env->GetChildren(dir.path(), &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "sub"}));  // no "." or "..", not recursive
  EXPECT_EQ(env->GetChildren(dir.File("nope"), &names).code(), Status::Code::kNotFound);
  EXPECT_FALSE(env->GetChildren(dir.File("a"), &names).ok());  // a file
  EXPECT_TRUE(env->SyncDir(dir.path()).ok());
  EXPECT_EQ(env->SyncDir(dir.File("nope")).code(), Status::Code::kNotFound);
  EXPECT_FALSE(env->SyncDir(dir.File("a")).ok());
}

TEST(PosixEnv, LargeFilesAreWrittenWholeInAnyPieceSize) {
  // Past the early-writeback window several times, in pieces below and above the buffer size.
  TempDir dir;
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(Env::Default()->NewWritableFile(dir.File("big"), &f).ok());
  std::string expected;
  for (size_t piece : {size_t{100}, size_t{1} << 20, size_t{3}, size_t{5} << 20, size_t{70000}}) {
    for (int i = 0; i < 4; ++i) {
      std::string data(piece, static_cast<char>('a' + expected.size() % 26));
      ASSERT_TRUE(f->Append(data).ok());
      expected += data;
    }
  }
  ASSERT_TRUE(f->Close().ok());
  EXPECT_TRUE(ReadFile(dir.File("big")) == expected);
}

}  // namespace
}  // namespace lathe
