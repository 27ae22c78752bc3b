// C interface of liblathe_spm.so, the shim that holds libsentencepiece.
//
// Why a shim: Debian's libsentencepiece exports its own built-in copy of protobuf 3.14, and
// libtorch links the system protobuf 3.21. Loaded into one process's global symbol scope they
// interpose on each other and crash at start-up (or abort on the version check). So lathe never
// links libsentencepiece directly: text/ dlopen()s this shim with RTLD_LOCAL | RTLD_DEEPBIND, and
// sentencepiece keeps its own protobuf to itself.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct LatheSpm LatheSpm;

// Returns NULL on failure and writes a message into err (err_len bytes).
LatheSpm* lathe_spm_load(const char* path, char* err, size_t err_len);
void lathe_spm_free(LatheSpm* spm);
int lathe_spm_vocab_size(const LatheSpm* spm);
int lathe_spm_bos_id(const LatheSpm* spm);
int lathe_spm_eos_id(const LatheSpm* spm);
// Encodes text into *ids (malloc'ed, freed with lathe_spm_free_buffer); 0 on success.
int lathe_spm_encode(const LatheSpm* spm, const char* text, size_t len, int** ids, size_t* n);
// Decodes ids into *text (malloc'ed, NUL-terminated, freed with lathe_spm_free_buffer); 0 on success.
int lathe_spm_decode(const LatheSpm* spm, const int* ids, size_t n, char** text, size_t* len);
void lathe_spm_free_buffer(void* p);

#ifdef __cplusplus
}
#endif
