// Float formats of model files and kernels, converted exactly as IEEE 754 (and ggml, and
// F16C's vcvtps2ph) convert them: f16 and bf16 to and from f32. Inline: the kernels call them
// per value.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace lathe::engine {

inline float HalfToFloat(uint16_t h) {
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
inline uint16_t FloatToHalf(float f) {
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

inline float Bf16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// float32 -> bf16 rounding to nearest even (a NaN stays a NaN).
inline uint16_t FloatToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace lathe::engine
