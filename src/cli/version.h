// What this build of lathe is: its version, the git commit it was built from and the libtorch
// its engine module was built with (cmake/version_header.cmake), and the store versions it knows.
#pragma once

#include <string>

namespace lathe::cli {

const char* LatheVersion();       // "0.2.0"
const char* LatheGitCommit();     // "0afa9837b7e2", "+dirty" appended for uncommitted changes; "unknown"
const char* LatheTorchVersion();  // "1.13.0"
// `lathe --version`'s text: the three above and lathe.db's schema and the data layout versions.
std::string VersionText();

}  // namespace lathe::cli
