# Turns a text file into a C++ source defining `std::string_view lathe::cli::NAME()`.
file(READ ${IN} CONTENT HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${CONTENT}")
get_filename_component(SOURCE_NAME ${IN} NAME)
file(WRITE ${OUT} "// Generated from samples/${SOURCE_NAME} by cmake/embed_text.cmake.\n"
  "#include <string_view>\nnamespace lathe::cli {\nstatic const char kBytes[] = {${BYTES} 0};\n"
  "std::string_view ${NAME}() { return {kBytes, sizeof(kBytes) - 1}; }\n}\n")
