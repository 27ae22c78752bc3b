// lathe backup / restore without a server (store/data_dir_backup.h), on the 0.1 fixture data
// directory (tests/fixtures/make_v1_data_dir.py) opened by today's store.
#include "store/data_dir_backup.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "store/data_layout.h"
#include "store/metadata_store.h"
#include "store/migrations.h"
#include "store/object_index.h"
#include "test_util.h"

namespace lathe::store {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::TempDir;
namespace fs = std::filesystem;

// The fixture, upgraded by an open as lathe serve does, with a credentials file (mode 0600) and a
// symbolic link beside it.
std::string MakeDataDir(const TempDir& dir) {
  const std::string data = dir.path() + "/data";
  const std::string cmd = "python3 " LATHE_SOURCE_DIR "/tests/fixtures/make_v1_data_dir.py " + data + " > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(UpgradeDataLayout(data, DataLayoutMigrations()).ok());
  EXPECT_TRUE(MetadataStore::Open(data + "/lathe.db").ok());
  dir.Write("data/credentials.json", "{\"accessKeyId\":\"LATHEKEY\"}");
  ::chmod((data + "/credentials.json").c_str(), 0600);
  fs::create_symlink("/etc/passwd", data + "/files/link");
  return data;
}

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(DataDirBackup, ABackupRestoresIntoAnEmptyDirectoryWithEveryRowFileAndObject) {
  TempDir dir;
  const std::string data = MakeDataDir(dir);
  auto backup = BackupDataDir(data, dir.path() + "/backup", "0.2.0-test");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(backup->schema_version, LatheDbSchemaVersion());
  EXPECT_EQ(backup->objects, 3u);
  EXPECT_EQ(backup->attempts, 1);
  ASSERT_EQ(backup->notes.size(), 1u);
  EXPECT_NE(backup->notes[0].find("files/link is a symbolic link"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.path() + "/backup/manifest.json"));
  EXPECT_FALSE(fs::exists(dir.path() + "/backup/serve.lock"));
  EXPECT_TRUE(fs::exists(dir.path() + "/backup/layout-version"));
  // The hard links that pinned the snapshot's blobs are gone.
  EXPECT_TRUE(fs::is_empty(data + "/s3/tmp"));
  // The upgrade's own backup (lathe.db.backup-v0-...) stays with the machine.
  for (const auto& e : fs::directory_iterator(dir.path() + "/backup"))
    EXPECT_EQ(e.path().filename().string().find("backup-v"), std::string::npos) << e.path();

  // A copy that lost the modes (carried through S3): the manifest's bring them back.
  EXPECT_EQ(ModeOf(dir.path() + "/backup/credentials.json"), 0600u);
  ::chmod((dir.path() + "/backup/credentials.json").c_str(), 0644);
  const std::string restored = dir.path() + "/elsewhere/data";
  auto r = RestoreDataDir(dir.path() + "/backup", restored);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source_data_dir, fs::weakly_canonical(data).string());
  EXPECT_EQ(r->lathe_version, "0.2.0-test");
  EXPECT_EQ(r->files, backup->files);
  EXPECT_EQ(r->paths_rewritten, 2u);  // the custom model's and the throughput's model folder
  EXPECT_FALSE(fs::exists(restored + ".restoring"));

  for (const char* rel : {"jobs/7s2arwn1h13h/train.log",
                          "jobs/7s2arwn1h13h/run/training_artifacts/step_wise_training_metrics.csv",
                          "s3/blobs/6c/6c53af22d2fe01ba7dfcd7ce035419de", "credentials.json", "layout-version"})
    EXPECT_EQ(ReadFile(restored + "/" + rel), ReadFile(data + "/" + rel)) << rel;
  EXPECT_EQ(ModeOf(restored + "/credentials.json"), 0600u);
  EXPECT_FALSE(fs::exists(restored + "/files/link"));

  auto db = MetadataStore::Open(restored + "/lathe.db");
  ASSERT_TRUE(db.ok());
  auto model = (*db)->Find("custom-model", "fixture-model");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->doc["_dir"], fs::weakly_canonical(restored).string() + "/jobs/7s2arwn1h13h/run/model");
  EXPECT_EQ((*(*db)->Tags(model->arn)).at("owner"), "alice");
  EXPECT_EQ((*db)->List("job")->size(), 1u);
  auto index = ObjectIndex::Open(db->get());
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->ListLatest("fixture-data", "", "", 100)->size(), 3u);
}

TEST(DataDirBackup, RefusesNonEmptyTargetsAndBackupsInsideTheDataDirectory) {
  TempDir dir;
  const std::string data = MakeDataDir(dir);
  dir.Write("full/x", "mine");
  auto into_full = BackupDataDir(data, dir.path() + "/full", "t");
  ASSERT_FALSE(into_full.ok());
  EXPECT_NE(into_full.status().message().find("is not empty (it holds x)"), std::string::npos);
  EXPECT_EQ(ReadFile(dir.path() + "/full/x"), "mine");
  EXPECT_FALSE(BackupDataDir(data, data + "/files/b", "t").ok());
  EXPECT_EQ(BackupDataDir(dir.path() + "/nothing", dir.path() + "/b", "t").status().code(), Status::Code::kNotFound);

  ASSERT_TRUE(BackupDataDir(data, dir.path() + "/backup", "t").ok());
  auto over = RestoreDataDir(dir.path() + "/backup", dir.path() + "/full");
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("is not empty"), std::string::npos);
  EXPECT_EQ(ReadFile(dir.path() + "/full/x"), "mine");
  EXPECT_EQ(RestoreDataDir(dir.path() + "/nothing", dir.path() + "/new").status().code(), Status::Code::kNotFound);
  // What a restore killed midway leaves: <target>.restoring, never the target. The next restore
  // names it instead of mixing two attempts.
  dir.Write("again.restoring/lathe.db", "half");
  auto again = RestoreDataDir(dir.path() + "/backup", dir.path() + "/again");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kAlreadyExists);
  EXPECT_NE(again.status().message().find("an interrupted restore"), std::string::npos) << again.status().message();
  EXPECT_FALSE(fs::exists(dir.path() + "/again"));
}

TEST(DataDirBackup, ADamagedOrHostileBackupRestoresNothing) {
  TempDir dir;
  const std::string data = MakeDataDir(dir);
  const std::string b = dir.path() + "/backup";
  ASSERT_TRUE(BackupDataDir(data, b, "t").ok());
  const std::string blob = b + "/s3/blobs/6c/6c53af22d2fe01ba7dfcd7ce035419de";
  const std::string good = ReadFile(blob);
  dir.Write("backup/s3/blobs/6c/6c53af22d2fe01ba7dfcd7ce035419de", "hello fixturE");
  auto damaged = RestoreDataDir(b, dir.path() + "/r1");
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), Status::Code::kCorruption);
  EXPECT_NE(damaged.status().message().find("6c53af22d2fe01ba7dfcd7ce035419de does not match"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() + "/r1"));
  EXPECT_FALSE(fs::exists(dir.path() + "/r1.restoring"));
  dir.Write("backup/s3/blobs/6c/6c53af22d2fe01ba7dfcd7ce035419de", good);

  const std::string manifest = ReadFile(b + "/manifest.json");
  for (const std::string& evil : {std::string("../../escape"), std::string("/etc/evil"), std::string("a//b")}) {
    std::string m = manifest;
    const std::string from = "\"path\": \"layout-version\"";
    ASSERT_NE(m.find(from), std::string::npos);
    m.replace(m.find(from), from.size(), "\"path\": \"" + evil + "\"");
    dir.Write("backup/manifest.json", m);
    auto r = RestoreDataDir(b, dir.path() + "/r2");
    ASSERT_FALSE(r.ok()) << evil;
    EXPECT_NE(r.status().message().find("climbs out"), std::string::npos) << r.status().message();
  }
  std::string setuid = manifest;
  const std::string mode = "\"mode\": " + std::to_string(0644);
  ASSERT_NE(setuid.find(mode), std::string::npos);
  setuid.replace(setuid.find(mode), mode.size(), "\"mode\": " + std::to_string(04755));
  dir.Write("backup/manifest.json", setuid);
  auto r5 = RestoreDataDir(b, dir.path() + "/r5");
  ASSERT_FALSE(r5.ok());
  EXPECT_NE(r5.status().message().find("not permission bits"), std::string::npos) << r5.status().message();
  std::string newer = manifest;
  newer.replace(newer.find("\"schemaVersion\": "), 18, "\"schemaVersion\": 9");
  dir.Write("backup/manifest.json", newer);
  auto r = RestoreDataDir(b, dir.path() + "/r3");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnsupported);
  dir.Write("backup/manifest.json", "[1, 2");
  EXPECT_EQ(RestoreDataDir(b, dir.path() + "/r4").status().code(), Status::Code::kCorruption);
}

// The server deletes an object (its row, then its blob) after the snapshot was taken and before
// the blob is copied: the backup starts over and holds the state of its second snapshot.
TEST(DataDirBackup, AnObjectDeletedAfterTheSnapshotStartsTheBackupOver) {
  TempDir dir;
  const std::string data = MakeDataDir(dir);
  auto db = MetadataStore::Open(data + "/lathe.db");  // the running server's connection
  ASSERT_TRUE(db.ok());
  auto index = ObjectIndex::Open(db->get());
  ASSERT_TRUE(index.ok());
  const std::string blob = data + "/s3/blobs/6c/6c53af22d2fe01ba7dfcd7ce035419de";
  BackupAfterSnapshotHookForTesting() = [&](int attempt, bool pinned) {
    if (attempt != 1 || pinned) return;
    std::vector<std::string> freed;
    ASSERT_TRUE((*index)->Remove("fixture-data", "notes/readme.txt", "", nullptr, &freed).ok());
    ASSERT_EQ(freed, std::vector<std::string>{"6c53af22d2fe01ba7dfcd7ce035419de"});
    fs::remove(blob);
  };
  auto backup = BackupDataDir(data, dir.path() + "/backup", "t");
  BackupAfterSnapshotHookForTesting() = nullptr;
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(backup->attempts, 2);
  EXPECT_EQ(backup->objects, 2u);
  ASSERT_TRUE(RestoreDataDir(dir.path() + "/backup", dir.path() + "/restored").ok());
  auto restored = MetadataStore::Open(dir.path() + "/restored/lathe.db");
  ASSERT_TRUE(restored.ok());
  auto listed = (*ObjectIndex::Open(restored->get()))->ListLatest("fixture-data", "", "", 100);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& v : *listed) {
    EXPECT_NE(v.key, "notes/readme.txt");
    EXPECT_TRUE(fs::exists(dir.path() + "/restored/s3/blobs/" + v.blob.substr(0, 2) + "/" + v.blob)) << v.key;
  }
}

// The same delete once the snapshot's blobs are pinned (while they are copied): no start over,
// and the backup holds the object as the snapshot had it, bytes included.
TEST(DataDirBackup, AnObjectDeletedWhileTheBlobsAreCopiedIsBackedUpAsTheSnapshotHadIt) {
  TempDir dir;
  const std::string data = MakeDataDir(dir);
  auto db = MetadataStore::Open(data + "/lathe.db");
  ASSERT_TRUE(db.ok());
  auto index = ObjectIndex::Open(db->get());
  ASSERT_TRUE(index.ok());
  const std::string rel = "s3/blobs/6c/6c53af22d2fe01ba7dfcd7ce035419de";
  const std::string bytes = ReadFile(data + "/" + rel);
  BackupAfterSnapshotHookForTesting() = [&](int, bool pinned) {
    if (!pinned) return;
    std::vector<std::string> freed;
    ASSERT_TRUE((*index)->Remove("fixture-data", "notes/readme.txt", "", nullptr, &freed).ok());
    fs::remove(data + "/" + rel);
  };
  auto backup = BackupDataDir(data, dir.path() + "/backup", "t");
  BackupAfterSnapshotHookForTesting() = nullptr;
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(backup->attempts, 1);
  EXPECT_EQ(backup->objects, 3u);
  EXPECT_EQ(ReadFile(dir.path() + "/backup/" + rel), bytes);
  EXPECT_TRUE(fs::is_empty(data + "/s3/tmp"));  // the pins are gone
  ASSERT_TRUE(RestoreDataDir(dir.path() + "/backup", dir.path() + "/restored").ok());
  auto restored = MetadataStore::Open(dir.path() + "/restored/lathe.db");
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ((*ObjectIndex::Open(restored->get()))->ListLatest("fixture-data", "", "", 100)->size(), 3u);
}

// A training checkpoint replaced while its folder is copied (state.json names the new
// generation, the old files go): the folder is copied again, never a mix of the two.
TEST(DataDirBackup, AFolderThatChangesDuringItsCopyIsCopiedAgainWhole) {
  TempDir dir;
  const std::string data = MakeDataDir(dir);
  const std::string ckpt = data + "/jobs/7s2arwn1h13h/run/checkpoint";
  fs::create_directories(ckpt);
  dir.Write("data/jobs/7s2arwn1h13h/run/checkpoint/state.json", "{\"generation\": 1}");
  dir.Write("data/jobs/7s2arwn1h13h/run/checkpoint/params-1.pt", "one");
  int calls = 0;
  BackupAfterFolderCopyHookForTesting() = [&](const std::string& folder) {
    if (folder != "jobs/7s2arwn1h13h/run/checkpoint" || calls++ > 0) return;
    dir.Write("data/jobs/7s2arwn1h13h/run/checkpoint/params-2.pt", "two");
    dir.Write("data/jobs/7s2arwn1h13h/run/checkpoint/state.json", "{\"generation\": 2}");
    fs::remove(ckpt + "/params-1.pt");
  };
  auto backup = BackupDataDir(data, dir.path() + "/backup", "t");
  BackupAfterFolderCopyHookForTesting() = nullptr;
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(backup->attempts, 2);
  const std::string copied = dir.path() + "/backup/jobs/7s2arwn1h13h/run/checkpoint";
  EXPECT_EQ(ReadFile(copied + "/state.json"), "{\"generation\": 2}");
  EXPECT_EQ(ReadFile(copied + "/params-2.pt"), "two");
  EXPECT_FALSE(fs::exists(copied + "/params-1.pt"));
  EXPECT_EQ(ReadFile(dir.path() + "/backup/manifest.json").find("params-1.pt"), std::string::npos);
  EXPECT_TRUE(RestoreDataDir(dir.path() + "/backup", dir.path() + "/restored").ok());
}

// `lathe backup` killed (SIGKILL) while it copies the folders: what it leaves has lathe.db and
// some files but no manifest, and restore refuses it without creating the data directory.
TEST(DataDirBackup, ABackupKilledMidwayLeavesNothingRestoreAccepts) {
  TempDir dir;
  const std::string data = MakeDataDir(dir);
  const std::string b = dir.path() + "/backup";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    BackupAfterFolderCopyHookForTesting() = [](const std::string& folder) {
      if (folder == "jobs") ::kill(::getpid(), SIGKILL);
    };
    (void)BackupDataDir(data, b, "t");
    _exit(3);  // not reached unless the hook never ran
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE(fs::exists(b + "/lathe.db"));
  EXPECT_FALSE(fs::exists(b + "/manifest.json"));
  auto r = RestoreDataDir(b, dir.path() + "/restored");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("did not finish"), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(dir.path() + "/restored"));
  EXPECT_FALSE(fs::exists(dir.path() + "/restored.restoring"));
  // The unfinished folder is not a target either: the next backup needs a new or emptied one.
  EXPECT_FALSE(BackupDataDir(data, b, "t").ok());
}

}  // namespace
}  // namespace lathe::store
