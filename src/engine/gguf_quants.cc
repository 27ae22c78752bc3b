// GGUF's tensor encodings, from ggml's block layouts (ggml-common.h in llama.cpp): what each byte
// of a block means, written out here so that lathe reads the files without linking ggml.
#include <cmath>
#include <cstring>

#include "engine/gguf.h"

namespace lathe::engine {
namespace {

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, bits = 0;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int shift = 0;
      while ((mantissa & 0x400) == 0) {
        mantissa <<= 1;
        ++shift;
      }
      bits = sign | static_cast<uint32_t>(127 - 15 - shift + 1) << 23 | (mantissa & 0x3ff) << 13;
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | mantissa << 13;  // inf / nan
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, overflow to infinity, as IEEE conversion (and F16C's vcvtps2ph) does.
uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) return sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0);  // inf, nan
  if (abs >= 0x477ff000) return sign | 0x7c00;  // rounds to above 65504: infinity
  if (abs < 0x38800000) {                       // below 2^-14: subnormal half (or zero)
    const float scaled = std::fabs(f) * 16777216.0f;  // in units of 2^-24, the subnormal step
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  const uint32_t mantissa_lsb = (abs >> 13) & 1;
  const uint32_t rounded = abs + 0xfff + mantissa_lsb;  // round half to even at bit 13
  return sign | static_cast<uint16_t>((rounded - (112u << 23)) >> 13);
}

uint16_t ReadU16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

float Bf16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Q4_K's twelve scale bytes hold eight 6-bit scales and eight 6-bit mins: the first four of each
// in the low six bits of bytes 0-3 (scales) and 4-7 (mins); the last four split between the low
// or high nibble of bytes 8-11 and the top two bits of bytes 0-7.
void Q4KScaleMin(int j, const uint8_t* q, float* scale, float* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<float>((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<float>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// 256 values: f16 d, f16 dmin, 12 scale bytes, 128 bytes of 4-bit quants. Each 64 values use 32
// quant bytes: the low nibbles give the first 32 (scale/min j), the high nibbles the next 32 (j+1);
// value = d * scale * q - dmin * min.
void DequantizeQ4K(const char* block, float* y) {
  const float d = HalfToFloat(ReadU16(block)), dmin = HalfToFloat(ReadU16(block + 2));
  const auto* scales = reinterpret_cast<const uint8_t*>(block + 4);
  const auto* q = reinterpret_cast<const uint8_t*>(block + 16);
  for (int j = 0; j < 8; j += 2, q += 32) {
    float s1, m1, s2, m2;
    Q4KScaleMin(j, scales, &s1, &m1);
    Q4KScaleMin(j + 1, scales, &s2, &m2);
    for (int l = 0; l < 32; ++l) *y++ = d * s1 * static_cast<float>(q[l] & 0xf) - dmin * m1;
    for (int l = 0; l < 32; ++l) *y++ = d * s2 * static_cast<float>(q[l] >> 4) - dmin * m2;
  }
}

// 256 values: 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 int8 scales, f16 d. Each half
// of 128 values takes 64 low bytes and 32 high bytes: value l, l+32, l+64, l+96 take the low and
// high nibbles of low bytes l and l+32 and the four bit pairs of high byte l; quants are 6-bit
// unsigned minus 32, each group of 16 values with its own scale.
void DequantizeQ6K(const char* block, float* y) {
  const auto* ql = reinterpret_cast<const uint8_t*>(block);
  const auto* qh = reinterpret_cast<const uint8_t*>(block + 128);
  const auto* sc = reinterpret_cast<const int8_t*>(block + 192);
  const float d = HalfToFloat(ReadU16(block + 208));
  for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is] * static_cast<float>(q1);
      y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
      y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
      y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
    }
  }
}

}  // namespace

Status DequantizeGguf(GgmlType type, std::string_view raw, uint64_t count, float* out) {
  uint64_t block_values = 0, block_bytes = 0;
  if (!GgmlTypeLayout(static_cast<uint32_t>(type), &block_values, &block_bytes))
    return Status::Unsupported("GGUF tensor type " + std::to_string(static_cast<uint32_t>(type)));
  if (count % block_values != 0 || raw.size() != count / block_values * block_bytes)
    return Status::InvalidArgument(std::string("GGUF ") + GgmlTypeName(type) + " data of " +
                                   std::to_string(raw.size()) + " bytes does not hold " + std::to_string(count) +
                                   " values");
  const char* p = raw.data();
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(out, p, count * 4);
      break;
    case GgmlType::kF16:
      for (uint64_t i = 0; i < count; ++i) out[i] = HalfToFloat(ReadU16(p + 2 * i));
      break;
    case GgmlType::kBF16:
      for (uint64_t i = 0; i < count; ++i) out[i] = Bf16ToFloat(ReadU16(p + 2 * i));
      break;
    case GgmlType::kQ8_0:
      for (uint64_t b = 0; b < count / 32; ++b, p += 34) {
        const float d = HalfToFloat(ReadU16(p));
        for (int j = 0; j < 32; ++j) out[b * 32 + j] = d * static_cast<float>(static_cast<int8_t>(p[2 + j]));
      }
      break;
    case GgmlType::kQ4_K:
      for (uint64_t b = 0; b < count / 256; ++b) DequantizeQ4K(p + b * 144, out + b * 256);
      break;
    case GgmlType::kQ6_K:
      for (uint64_t b = 0; b < count / 256; ++b) DequantizeQ6K(p + b * 210, out + b * 256);
      break;
  }
  return Status::Ok();
}

std::string QuantizeGgufF16(const float* x, uint64_t count) {
  std::string out(count * 2, '\0');
  for (uint64_t i = 0; i < count; ++i) {
    const uint16_t h = FloatToHalf(x[i]);
    std::memcpy(&out[2 * i], &h, 2);
  }
  return out;
}

std::string QuantizeGgufQ8_0(const float* x, uint64_t count) {
  std::string out(count / 32 * 34, '\0');
  for (uint64_t b = 0; b < count / 32; ++b) {
    const float* v = x + b * 32;
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float inverse = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t h = FloatToHalf(d);
    char* block = &out[b * 34];
    std::memcpy(block, &h, 2);
    for (int j = 0; j < 32; ++j) block[2 + j] = static_cast<char>(static_cast<int8_t>(std::lround(v[j] * inverse)));
  }
  return out;
}

}  // namespace lathe::engine
