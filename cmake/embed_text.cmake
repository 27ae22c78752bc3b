# Turns a text file into a C++ source defining `lathe::cli::builtin_sample_jsonl()`.
file(READ ${IN} CONTENT HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${CONTENT}")
file(WRITE ${OUT} "// Generated from samples/banking_support.jsonl by cmake/embed_text.cmake.\n"
  "#include <string_view>\nnamespace lathe::cli {\nstatic const char kBytes[] = {${BYTES} 0};\n"
  "std::string_view builtin_sample_jsonl() { return {kBytes, sizeof(kBytes) - 1}; }\n}\n")
