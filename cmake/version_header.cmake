# Writes lathe_version.h (from cmake/lathe_version.h.in) at every build, with the git commit the
# source is at ("+dirty" when tracked files differ from it); configure_file rewrites the file only
# when its text changes, so only version.cc recompiles, and only after a commit.
# Called by src/cli/CMakeLists.txt: cmake -DSRC=... -DOUT=... -DLATHE_VERSION=... -DLATHE_TORCH_VERSION=... -P
set(LATHE_GIT_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SRC}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD WORKING_DIRECTORY "${SRC}"
                  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0 AND commit)
    set(LATHE_GIT_COMMIT "${commit}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" status --porcelain --untracked-files=no WORKING_DIRECTORY "${SRC}"
                    OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(changes)
      string(APPEND LATHE_GIT_COMMIT "+dirty")
    endif()
  endif()
endif()
if(NOT LATHE_TORCH_VERSION)
  set(LATHE_TORCH_VERSION "unknown")
endif()
configure_file("${SRC}/cmake/lathe_version.h.in" "${OUT}" @ONLY)
