#include "text/spm_model_proto.h"

#include <cstdint>
#include <cstring>

namespace lathe::text {
namespace {

// Field numbers of sentencepiece_model.proto (proto2).
enum ModelField { kPieces = 1, kTrainerSpec = 2, kNormalizerSpec = 3 };
enum PieceField { kPiece = 1, kScore = 2, kType = 3 };
enum TrainerField { kModelType = 3, kByteFallback = 35, kUnkId = 40, kBosId = 41, kEosId = 42, kPadId = 43 };
enum NormalizerField { kName = 1, kCharsmap = 2, kAddDummyPrefix = 3, kRemoveExtraWhitespaces = 4,
                       kEscapeWhitespaces = 5 };
enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// One message's fields, front to back. Messages nest only two deep here (model -> piece or
// spec), each a separate Fields over its own bytes: no recursion on input.
class Fields {
 public:
  Fields(std::string_view b, const std::string& file) : b_(b), file_(file) {}
  bool done() const { return pos_ >= b_.size(); }

  // Reads the next field's key and value: a varint/fixed into *number, bytes into *bytes.
  Status Next(uint32_t* field, int* wire, uint64_t* number, std::string_view* bytes) {
    uint64_t key = 0;
    LATHE_RETURN_IF_ERROR(Varint(&key));
    *field = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<int>(key & 7);
    switch (*wire) {
      case kVarint: return Varint(number);
      case kFixed64: return Fixed(8, number);
      case kFixed32: return Fixed(4, number);
      case kLengthDelimited: {
        uint64_t n = 0;
        LATHE_RETURN_IF_ERROR(Varint(&n));
        if (n > b_.size() - pos_) return Error("a field runs past the end");
        *bytes = b_.substr(pos_, n);
        pos_ += n;
        return Status::Ok();
      }
      default: return Error("unknown protobuf wire type " + std::to_string(*wire));
    }
  }

 private:
  Status Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return Error("a number runs past the end");
      const auto c = static_cast<uint8_t>(b_[pos_++]);
      *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (c < 0x80) return Status::Ok();
    }
    return Error("a number longer than 10 bytes");
  }
  Status Fixed(size_t n, uint64_t* v) {
    if (n > b_.size() - pos_) return Error("a number runs past the end");
    *v = 0;
    std::memcpy(v, b_.data() + pos_, n);  // little-endian host (x86-64, the only target)
    pos_ += n;
    return Status::Ok();
  }
  Status Error(const std::string& m) const {
    return Status::Corruption(file_ + ": not a SentencePiece model (" + m + " at byte " + std::to_string(pos_) + ")");
  }

  std::string_view b_;
  const std::string& file_;
  size_t pos_ = 0;
};

float AsFloat(uint64_t bits) {
  const auto b32 = static_cast<uint32_t>(bits);
  float f;
  std::memcpy(&f, &b32, 4);
  return f;
}

// Calls visit(field, wire, number, bytes) for each field of the message in b, in order.
template <typename Visit>
Status ForEachField(std::string_view b, const std::string& file, Visit visit) {
  Fields f(b, file);
  while (!f.done()) {
    uint32_t field;
    int wire;
    uint64_t n = 0;
    std::string_view bytes;
    LATHE_RETURN_IF_ERROR(f.Next(&field, &wire, &n, &bytes));
    LATHE_RETURN_IF_ERROR(visit(field, wire, n, bytes));
  }
  return Status::Ok();
}

Status ParsePiece(std::string_view b, const std::string& file, SpmPiece* p) {
  LATHE_RETURN_IF_ERROR(ForEachField(b, file, [&](uint32_t field, int wire, uint64_t n, std::string_view bytes) {
    if (field == kPiece && wire == kLengthDelimited) p->piece.assign(bytes);
    if (field == kScore && wire == kFixed32) p->score = AsFloat(n);
    if (field == kType && wire == kVarint) p->type = static_cast<int>(n);
    return Status::Ok();
  }));
  if (p->type < SpmPiece::kNormal || p->type > SpmPiece::kByte)
    return Status::Corruption(file + ": piece \"" + p->piece + "\" has unknown type " + std::to_string(p->type));
  return Status::Ok();
}

Status ParseTrainerSpec(std::string_view b, const std::string& file, SpmModelProto* m) {
  return ForEachField(b, file, [&](uint32_t field, int wire, uint64_t n, std::string_view) {
    if (wire != kVarint) return Status::Ok();
    const int value = static_cast<int>(static_cast<int32_t>(n));  // int32 fields: -1 is 2^64-1
    switch (field) {
      case kModelType: m->model_type = value; break;
      case kByteFallback: m->byte_fallback = n != 0; break;
      case kUnkId: m->unk_id = value; break;
      case kBosId: m->bos_id = value; break;
      case kEosId: m->eos_id = value; break;
      case kPadId: m->pad_id = value; break;
      default: break;
    }
    return Status::Ok();
  });
}

Status ParseNormalizerSpec(std::string_view b, const std::string& file, SpmModelProto* m) {
  return ForEachField(b, file, [&](uint32_t field, int wire, uint64_t n, std::string_view bytes) {
    if (field == kName && wire == kLengthDelimited) m->normalizer_name.assign(bytes);
    if (field == kCharsmap && wire == kLengthDelimited) m->precompiled_charsmap.assign(bytes);
    if (field == kAddDummyPrefix && wire == kVarint) m->add_dummy_prefix = n != 0;
    if (field == kRemoveExtraWhitespaces && wire == kVarint) m->remove_extra_whitespaces = n != 0;
    if (field == kEscapeWhitespaces && wire == kVarint) m->escape_whitespaces = n != 0;
    return Status::Ok();
  });
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void PutKey(std::string* out, uint32_t field, WireType wire) { PutVarint(out, (uint64_t{field} << 3) | wire); }
void PutInt(std::string* out, uint32_t field, int64_t v) {
  PutKey(out, field, kVarint);
  PutVarint(out, static_cast<uint64_t>(v));  // negative int32: ten bytes, as protobuf writes it
}
void PutBytes(std::string* out, uint32_t field, std::string_view b) {
  PutKey(out, field, kLengthDelimited);
  PutVarint(out, b.size());
  out->append(b);
}

}  // namespace

Status ParseSpmModelProto(std::string_view bytes, const std::string& file, SpmModelProto* out) {
  *out = SpmModelProto{};
  if (bytes.size() > kMaxSpmModelBytes)
    return Status::InvalidArgument(file + ": " + std::to_string(bytes.size()) + " bytes, over the " +
                                   std::to_string(kMaxSpmModelBytes) + "-byte limit for a SentencePiece model");
  LATHE_RETURN_IF_ERROR(ForEachField(bytes, file, [&](uint32_t field, int wire, uint64_t, std::string_view sub) {
    if (wire != kLengthDelimited) return Status::Ok();
    if (field == kPieces) {
      if (out->pieces.size() >= kMaxSpmPieces)
        return Status::InvalidArgument(file + ": more than " + std::to_string(kMaxSpmPieces) + " pieces");
      out->pieces.emplace_back();
      return ParsePiece(sub, file, &out->pieces.back());
    }
    if (field == kTrainerSpec) return ParseTrainerSpec(sub, file, out);
    if (field == kNormalizerSpec) return ParseNormalizerSpec(sub, file, out);
    return Status::Ok();
  }));
  if (out->pieces.empty()) return Status::Corruption(file + ": a SentencePiece model without pieces");
  return Status::Ok();
}

std::string SerializeSpmModelProto(const SpmModelProto& m) {
  std::string out;
  for (const auto& p : m.pieces) {
    std::string piece;
    PutBytes(&piece, kPiece, p.piece);
    PutKey(&piece, kScore, kFixed32);
    piece.append(reinterpret_cast<const char*>(&p.score), 4);
    if (p.type != SpmPiece::kNormal) PutInt(&piece, kType, p.type);
    PutBytes(&out, kPieces, piece);
  }
  std::string trainer;
  PutInt(&trainer, kModelType, m.model_type);
  PutInt(&trainer, kByteFallback, m.byte_fallback ? 1 : 0);
  PutInt(&trainer, kUnkId, m.unk_id);
  PutInt(&trainer, kBosId, m.bos_id);
  PutInt(&trainer, kEosId, m.eos_id);
  PutInt(&trainer, kPadId, m.pad_id);
  PutBytes(&out, kTrainerSpec, trainer);
  std::string normalizer;
  PutBytes(&normalizer, kName, m.normalizer_name);
  if (!m.precompiled_charsmap.empty()) PutBytes(&normalizer, kCharsmap, m.precompiled_charsmap);
  PutInt(&normalizer, kAddDummyPrefix, m.add_dummy_prefix ? 1 : 0);
  PutInt(&normalizer, kRemoveExtraWhitespaces, m.remove_extra_whitespaces ? 1 : 0);
  PutInt(&normalizer, kEscapeWhitespaces, m.escape_whitespaces ? 1 : 0);
  PutBytes(&out, kNormalizerSpec, normalizer);
  return out;
}

}  // namespace lathe::text
