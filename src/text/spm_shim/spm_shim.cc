#include "spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct LatheSpm {
  sentencepiece::SentencePieceProcessor sp;
};

extern "C" {

LatheSpm* lathe_spm_load(const char* path, char* err, size_t err_len) {
  auto* s = new LatheSpm;
  auto st = s->sp.Load(path);
  if (!st.ok()) {
    std::snprintf(err, err_len, "%s", st.ToString().c_str());
    delete s;
    return nullptr;
  }
  return s;
}

void lathe_spm_free(LatheSpm* spm) { delete spm; }
int lathe_spm_vocab_size(const LatheSpm* spm) { return spm->sp.GetPieceSize(); }
int lathe_spm_bos_id(const LatheSpm* spm) { return spm->sp.bos_id(); }
int lathe_spm_eos_id(const LatheSpm* spm) { return spm->sp.eos_id(); }

int lathe_spm_encode(const LatheSpm* spm, const char* text, size_t len, int** ids, size_t* n) {
  std::vector<int> out;
  if (!spm->sp.Encode(std::string_view(text, len), &out).ok()) return 1;
  *n = out.size();
  *ids = static_cast<int*>(std::malloc(sizeof(int) * (out.empty() ? 1 : out.size())));
  std::memcpy(*ids, out.data(), sizeof(int) * out.size());
  return 0;
}

int lathe_spm_decode(const LatheSpm* spm, const int* ids, size_t n, char** text, size_t* len) {
  std::string out;
  if (!spm->sp.Decode(std::vector<int>(ids, ids + n), &out).ok()) return 1;
  *len = out.size();
  *text = static_cast<char*>(std::malloc(out.size() + 1));
  std::memcpy(*text, out.c_str(), out.size() + 1);
  return 0;
}

void lathe_spm_free_buffer(void* p) { std::free(p); }

}  // extern "C"
