// Where jobs may read and write files: only under fileRoots, after resolving symlinks, with one
// answer for everything refused, and nothing created until a job runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "service/data_locations.h"
#include "service/service_config.h"
#include "test_util.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using lathe::testing::TempDir;

// A root, a folder outside it and a data dir beside them, all resolved (TMPDIR may be a symlink).
struct Folders {
  TempDir tmp;
  std::string root, outside, data;
  Folders() {
    const std::string base = fs::canonical(tmp.path()).string();
    root = base + "/root";
    outside = base + "/outside";
    data = base + "/root/lathe-data";  // inside the root, as when serve starts in its parent
    for (const auto& d : {root, outside, data + "/files", data + "/jobs"}) fs::create_directories(d);
  }
  std::string Write(const std::string& path, const std::string& text) const {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return path;
  }
  LocalDataLocations Locations() const { return LocalDataLocations({root}, data); }
};

std::string Message(const Result<std::string>& r) { return r.ok() ? "(ok: " + *r + ")" : r.status().message(); }

TEST(DataLocations, ReadsRegularFilesInsideTheRootsOnly) {
  Folders f;
  const std::string train = f.Write(f.root + "/train.jsonl", "{}\n");
  auto loc = f.Locations();
  EXPECT_EQ(Message(loc.FileForReading("file://" + train)), "(ok: " + train + ")");
  EXPECT_EQ(Message(loc.FileForReading(train)), "(ok: " + train + ")");
  EXPECT_EQ(Message(loc.FileForReading(f.data + "/files/../../train.jsonl")), "(ok: " + train + ")");

  const std::string secret = f.Write(f.outside + "/secret.jsonl", "{\"prompt\": \"the secret\"}\n");
  fs::create_symlink(secret, f.root + "/link.jsonl");
  fs::create_symlink(f.outside, f.root + "/linked-folder");
  const std::string refused[] = {
      secret,
      f.root + "/link.jsonl",                  // a symlink inside the root pointing out of it
      f.root + "/linked-folder/secret.jsonl",  // a folder symlink
      f.root + "/../outside/secret.jsonl",     // ..
      f.root,                                  // not a regular file
      f.data + "/jobs",
      f.Write(f.data + "/credentials.json", "{}"),  // lathe's own state, though under the root
      "/proc/self/environ",
      "/dev/zero",
      "/etc/passwd",
  };
  for (const auto& path : refused) {
    auto r = loc.FileForReading("file://" + path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().message(),
              "file://" + path + ": no such file, or not one this server may read (it reads regular files in the "
                                 "folders listed as fileRoots in its config; see docs/serve.md)");
  }
  // Kernel filesystems stay out even when a root holds them: /proc's files look regular to stat.
  LocalDataLocations everything({"/"}, f.data);
  EXPECT_TRUE(everything.FileForReading(secret).ok());
  for (const char* path : {"/proc/self/environ", "/proc/self/cmdline", "/sys/kernel/hostname", "/dev/zero"})
    EXPECT_FALSE(everything.FileForReading(path).ok()) << path;
  EXPECT_FALSE(everything.FolderForWriting("/proc/self/out").ok());
  EXPECT_FALSE(everything.FileForReading(f.data + "/credentials.json").ok());
  // The data dir's files/ folder is the drop folder: readable when the roots hold it.
  const std::string dropped = f.Write(f.data + "/files/train.jsonl", "{}\n");
  EXPECT_TRUE(loc.FileForReading(dropped).ok());
  EXPECT_FALSE(LocalDataLocations({f.outside}, f.data).FileForReading(dropped).ok());
}

TEST(DataLocations, AMissingFileAndAForbiddenOneGetTheSameAnswer) {
  Folders f;
  const std::string secret = f.Write(f.outside + "/secret.jsonl", "x");
  auto loc = f.Locations();
  auto existing = loc.FileForReading(secret);
  auto missing = loc.FileForReading(f.outside + "/missing.jsonl");
  auto missing_inside = loc.FileForReading(f.root + "/missing.jsonl");
  ASSERT_FALSE(existing.ok());
  ASSERT_FALSE(missing.ok());
  ASSERT_FALSE(missing_inside.ok());
  auto without_path = [](const Status& s, const std::string& path) {
    std::string m = s.message();
    return m.rfind(path, 0) == 0 ? m.substr(path.size()) : m;
  };
  EXPECT_EQ(without_path(existing.status(), secret), without_path(missing.status(), f.outside + "/missing.jsonl"));
  EXPECT_EQ(without_path(existing.status(), secret), without_path(missing_inside.status(), f.root + "/missing.jsonl"));
  EXPECT_EQ(existing.status().code(), missing.status().code());
}

TEST(DataLocations, ControlCharactersAndLengthAreRefusedBeforeAnyLookup) {
  Folders f;
  const std::string train = f.Write(f.root + "/train.jsonl", "{}\n");
  auto loc = f.Locations();
  // A NUL would make the system calls see only "…/train.jsonl".
  auto nul = loc.FileForReading("file://" + train + std::string("\0.png", 5));
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("control character (byte 0x00 at offset"), std::string::npos)
      << nul.status().message();
  EXPECT_FALSE(loc.FolderForWriting("file://" + f.root + "/out\n").ok());

  std::string long_uri = "file://" + f.root + "/";
  long_uri += std::string(kMaxDataUriLength - long_uri.size(), 'a');
  EXPECT_NE(loc.FileForReading(long_uri).status().message().find("no such file"), std::string::npos);  // 1024: looked up
  auto too_long = loc.FileForReading(long_uri + "a");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().message(), "the URI has 1025 characters; it must have between 1 and 1024");
  EXPECT_FALSE(loc.FileForReading("").ok());
  EXPECT_NE(loc.FileForReading("s3://bucket/train.jsonl").status().message().find("file:///absolute/path"),
            std::string::npos);
  EXPECT_FALSE(loc.FileForReading("relative/train.jsonl").ok());
}

TEST(DataLocations, OutputFoldersAreCheckedAtRequestAndCreatedOnlyWhenTheJobWrites) {
  Folders f;
  auto loc = f.Locations();
  const std::string out = f.root + "/out/deeper";
  auto checked = loc.FolderForWriting("file://" + out + "/");  // Bedrock's trailing "/"
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(*checked, out);
  EXPECT_FALSE(fs::exists(f.root + "/out"));  // nothing created at request time

  auto created = loc.CreateFolderForWriting(*checked);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(*created, out);
  EXPECT_TRUE(fs::is_directory(out));
  EXPECT_TRUE(loc.CreateFolderForWriting(*checked).ok());  // again: already there

  const std::string not_writable =
      ": not a folder this server may write (outputs go in the folders listed as fileRoots in its config; see "
      "docs/serve.md)";
  fs::create_symlink(f.outside, f.root + "/escape");
  for (const std::string& path : {f.outside + "/out", std::string("/etc/lathe-out"), std::string("/proc/self/out"),
                                  f.root + "/escape/out", f.data + "/jobs/out", std::string("/nonexistent/a/b")}) {
    EXPECT_EQ(Message(loc.FolderForWriting(path)), path + not_writable);
  }
  for (const std::string& path : {f.root + "/a/../../outside", f.root + "/./a", f.root + "//a"}) {
    auto r = loc.FolderForWriting(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_NE(r.status().message().find("must not hold empty, \".\" or \"..\" parts"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(f.outside + "/out"));
}

TEST(DataLocations, ASymlinkSwappedInBeforeTheJobRunsDoesNotLeadOut) {
  Folders f;
  auto loc = f.Locations();
  auto checked = loc.FolderForWriting(f.root + "/out/job");
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  fs::create_symlink(f.outside, f.root + "/out");  // after the request, before the run
  auto created = loc.CreateFolderForWriting(*checked);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("not a folder this server may write"), std::string::npos);
  EXPECT_FALSE(fs::exists(f.outside + "/job"));

  // Reading: the answer is the resolved file, and a symlink put in its place later resolves elsewhere.
  const std::string train = f.Write(f.root + "/train.jsonl", "{}\n");
  auto read = loc.FileForReading(train);
  ASSERT_TRUE(read.ok());
  fs::remove(train);
  fs::create_symlink(f.Write(f.outside + "/secret.jsonl", "x"), train);
  EXPECT_FALSE(loc.FileForReading(*read).ok());
}

TEST(ServiceConfig, FileRootsReplaceTheDefaultAndMustBeAbsoluteFolders) {
  TempDir dir;
  ServiceConfig defaults;
  defaults.file_roots = {"/default/files", "/cwd"};
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"fileRoots": ["/srv/data", "/home/me/split"]})"), defaults);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->file_roots, (std::vector<std::string>{"/srv/data", "/home/me/split"}));
  auto kept = LoadServiceConfig(dir.Write("d.json", "{}"), defaults);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->file_roots, defaults.file_roots);
  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"({"fileRoots": "/srv"})", "\"fileRoots\" must be an array"},
           {R"({"fileRoots": [3]})", "\"fileRoots[0]\" must be a string"},
           {R"({"fileRoots": ["/a", "data"]})", "\"fileRoots[1]\" must be an absolute path"},
           {R"({"fileRoots": [""]})", "\"fileRoots[0]\" must be between 1 and 4096 characters"},
           {R"({"fileRoots": ["/a\u0000b"]})", "\"fileRoots[0]\" must be free of control characters"}}) {
    auto bad = LoadServiceConfig(dir.Write("bad.json", text), defaults);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find(needle), std::string::npos) << bad.status().message();
  }
}

}  // namespace
}  // namespace lathe::service
