// The bounds of the /v1/ wire on untrusted input (docs/serve.md, Limits; docs/openai.md).
#pragma once

#include <cstddef>

namespace lathe::openai {

inline constexpr size_t kMaxJsonBodyBytes = 4u << 20;    // chat, completions, embeddings, jobs
inline constexpr size_t kMaxFileBytes = 64u << 20;       // one /v1/files upload (multipart body)
inline constexpr size_t kMaxModelNameBytes = 2048;       // Converse's modelId bound
inline constexpr size_t kMaxMessages = 2048;             // chat messages per request
inline constexpr size_t kMaxContentParts = 256;          // content parts per message
inline constexpr size_t kMaxStopSequences = 4;           // as OpenAI
inline constexpr size_t kMaxStopBytes = 1024;            // one stop sequence
inline constexpr int kMaxChoices = 8;                    // n (OpenAI: 128); each choice is a generation
inline constexpr int kMaxCompletionTokens = 131072;      // max_tokens; the engine caps at the context
inline constexpr int kDefaultMaxTokens = 512;            // Converse's default on lathe's models
inline constexpr size_t kMaxPrompts = 8;                 // /v1/completions prompt array, times n
inline constexpr size_t kMaxEmbeddingInputs = 64;        // /v1/embeddings input array
inline constexpr size_t kMaxUserBytes = 256;             // "user" (the deployments' sticky key)
inline constexpr size_t kMaxIdBytes = 128;               // file-..., ftjob-... ids in paths
inline constexpr size_t kMaxFilenameBytes = 256;         // an uploaded file's name
inline constexpr int kMaxListLimit = 100;                // limit= on list endpoints
inline constexpr size_t kMaxEventsScanned = 10000;       // metric rows read for /events, /checkpoints

}  // namespace lathe::openai
