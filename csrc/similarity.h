// Similarity tiles: dot products of unit vectors (cosines), the input of every alignment score.
//
// A strip of rows of A (row-major, D floats each) against all of B, where B is stored transposed and
// padded: bt[k * ldb + j] is component k of base j (ldb a multiple of 16, padding columns are zero).
// out[r * ldo + j] = scale * dot(a_r, b_j) + bias for j < ldb (padding columns are written too).
// One scalar kernel and one per SIMD level, each in its own translation unit, chosen at run time.
#pragma once

#include <cstdint>

namespace rnabert {

enum SimdLevel : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// The level to use now: best_simd_level() (which honours RNABERT_SIMD), or `forced` when >= 0 and lower.
SimdLevel simd_level_now(int forced = -1);

using StripKernel = void (*)(const float* a, int64_t lda, int rows, const float* bt, int64_t ldb, int dim, float scale,
                             float bias, float* out, int64_t ldo);

// Soft-alignment score, one strip of rows at a time, without an L1 x L2 matrix. With E = exp(s - shift)
// (any shift: softmax is shift-invariant; Python passes unit rows so s <= soft_scale = shift),
// R_i = sum_j E_ij, C_j = sum_i E_ij, a = E/R, b = E/C, c = a + b - a*b:
//   sum c*s = sum_i (sum_j E s)_i / R_i + sum_j [ (sum_i E s)_j - (sum_i E^2 s / R_i)_j ] / C_j
//   sum c   = L1 + L2 - sum_j (sum_i E^2 / R_i)_j / C_j
// soft_rows accumulates, for `rows` rows of s (stride ld, L2 valid columns), the row term into *row_acc and
// the four column sums C, sum E s, sum E^2 s / R, sum E^2 / R into col[0..4*ld) (zeroed by the caller).
// tmp: ld floats.
using SoftKernel = void (*)(const float* s, int rows, int L2, int64_t ld, float shift, float* tmp, float* col,
                            double* row_acc);

void sim_strip_scalar(const float*, int64_t, int, const float*, int64_t, int, float, float, float*, int64_t);
void soft_rows_scalar(const float*, int, int, int64_t, float, float*, float*, double*);
#if defined(RNABERT_HAVE_X86_SIMD)
void sim_strip_avx2(const float*, int64_t, int, const float*, int64_t, int, float, float, float*, int64_t);
void sim_strip_avx512(const float*, int64_t, int, const float*, int64_t, int, float, float, float*, int64_t);
// bf16 variant (AVX512_BF16 CPUs, opt-in): a and bt hold bf16 pairs packed in 32-bit words (see
// pack_bf16 in engine.cpp), lda/ldb count words, and dim is the number of pairs.
void sim_strip_avx512_bf16(const float*, int64_t, int, const float*, int64_t, int, float, float, float*, int64_t);
void soft_rows_avx2(const float*, int, int, int64_t, float, float*, float*, double*);
void soft_rows_avx512(const float*, int, int, int64_t, float, float*, float*, double*);
#endif

// Whether count floats are all finite (no NaN or inf): an exponent test on the bits, 8 or 16 at a time.
using FiniteKernel = bool (*)(const float* v, int64_t count);
bool all_finite_scalar(const float* v, int64_t count);
#if defined(RNABERT_HAVE_X86_SIMD)
bool all_finite_avx2(const float* v, int64_t count);
bool all_finite_avx512(const float* v, int64_t count);
#endif

StripKernel strip_kernel(SimdLevel level);
FiniteKernel finite_kernel(SimdLevel level);
SoftKernel soft_kernel(SimdLevel level);

}  // namespace rnabert
