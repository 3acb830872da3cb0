// The interface between the engine and the SIMD dynamic-programming kernels (dp_simd.h): raw pointers
// only, so the SIMD translation units instantiate no inline std:: code that a baseline caller could share.
#pragma once

#include <stdint.h>

#include "dp_recurrence.h"

namespace rnabert {

struct DpEnd {
  float score;
  int i, j;  // the cell the traceback starts from
};

// Fills out[r * ldo + j] (r < rows, j < L2) with the match scores of bases i0 + r of A against j of B.
using StripFill = void (*)(void* ctx, int i0, int rows, float* out, int64_t ldo);

constexpr int kMaxLanes = 16;   // the widest strip (AVX-512); buffers are sized for it
constexpr int kStripLead = 16;  // finite padding columns before each strip row
constexpr int kStripTail = 32;  // and after its ld columns
constexpr int kTraceMasks = 5;  // per step: from E, from F, stop, E extends, F extends

// Buffers are allocated by the caller: strip: kMaxLanes rows of stride ld (>= L2 + kStripLead + kStripTail),
// pointing kStripLead floats into its buffer, padding finite; skew, hstep, estep: (L2 + 2 kMaxLanes) x
// kMaxLanes; hrow, erow: L2 + 1; last_col: L1 + 1; with trace, ceil(L1 / lanes) * (L2 + lanes - 1) *
// kTraceMasks masks.
struct StripDpArgs {
  int L1, L2;
  dp::Scoring sc;
  StripFill fill;
  void* ctx;
  float* strip;
  int64_t ld;
  float* skew;
  float* hrow;
  float* erow;
  float* hstep;
  float* estep;
  float* last_col;
  uint16_t* tb;
  bool trace;
};

#if defined(RNABERT_HAVE_X86_SIMD)
DpEnd dp_strips_avx2(const StripDpArgs& a);    // 8 rows per strip
DpEnd dp_strips_avx512(const StripDpArgs& a);  // 16 rows per strip
#endif

// The traceback byte (dp_recurrence.h's layout) of cell (i, j), 1-based, from a strip kernel's masks.
static inline uint8_t strip_dir(const uint16_t* tb, int lanes, int L2, int i, int j) {
  const int shift = lanes == 16 ? 4 : 3;  // lanes is 8 or 16: no division on the traceback path
  const int s = (i - 1) >> shift, r = (i - 1) & (lanes - 1), t = (j - 1) + r;
  const uint16_t* m = tb + ((int64_t)s * (L2 + lanes - 1) + t) * kTraceMasks;
  const uint8_t src = ((m[2] >> r) & 1)   ? dp::kStop
                      : ((m[0] >> r) & 1) ? dp::kFromE
                      : ((m[1] >> r) & 1) ? dp::kFromF
                                          : dp::kFromDiag;
  return (uint8_t)(src | (((m[3] >> r) & 1) ? dp::kEExtend : 0) | (((m[4] >> r) & 1) ? dp::kFExtend : 0));
}

}  // namespace rnabert
