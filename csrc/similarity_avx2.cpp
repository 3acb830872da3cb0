// AVX2 + FMA instantiation of the similarity and soft-alignment kernels (this file is compiled with -mavx2 -mfma).
#if defined(RNABERT_HAVE_X86_SIMD)  // x86 builds only (CMake compiles this file with its -m flags there)
#include <immintrin.h>

#include "dp_simd.h"
#include "simd_tile.h"
#include "similarity.h"

namespace rnabert {
namespace {

struct V256 {
  // 4 x 4 register blocks (16 accumulators) fit the 32 zmm registers; AVX2's 16 ymm take 4 x 3 at most.
  static constexpr bool wide_blocks = false;
  using reg = __m256;
  static constexpr int width = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static float hsum(reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static reg mask_tail(reg v, int valid) {
    if (valid >= width) return v;
    if (valid <= 0) return zero();
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx);
    return _mm256_and_ps(v, _mm256_castsi256_ps(m));
  }
  // Same polynomial as the AVX-512 kernel (see similarity_avx512.cpp).
  static reg exp_nonpos(reg x) {
    const reg lo = _mm256_set1_ps(-87.0f);
    const reg under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_max_ps(x, lo);
    const reg n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    reg r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    reg p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(under, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
  }
};

struct D256 {
  using reg = __m256;
  using mask = __m256;
  static constexpr int width = 8;
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  // Lanes move up by one; lane 0 takes x.
  static reg shift_in(reg v, float x) {
    const reg up = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6));
    return _mm256_blend_ps(up, _mm256_set1_ps(x), 1);
  }
  static mask lanes_between(int lo, int hi) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i ge_lo = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(lo - 1));
    const __m256i le_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi + 1), idx);
    return _mm256_castsi256_ps(_mm256_and_si256(ge_lo, le_hi));
  }
  static reg blend(mask k, reg a, reg b) { return _mm256_blendv_ps(a, b, k); }
  static mask cmp_lt(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static mask cmp_gt(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static mask cmp_le(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  static mask and_(mask a, mask b) { return _mm256_and_ps(a, b); }
  static mask andnot(mask a, mask b) { return _mm256_andnot_ps(a, b); }
  static unsigned bits(mask k) { return (unsigned)_mm256_movemask_ps(k); }
  // dst[q * 8 + r] = src[r * ld + t0 - r + q] for q, r < 8 (see the AVX-512 kernel): 24 shuffles.
  static void skew_block(const float* src, int64_t ld, int t0, float* dst) {
    __m256 r[8], t[8], u[8];
    for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(src + k * ld + t0 - k);
    for (int k = 0; k < 4; ++k) {
      t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
      t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    for (int g = 0; g < 2; ++g) {
      u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
      u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
      u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
      u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
      _mm256_storeu_ps(dst + c * 8, _mm256_permute2f128_ps(u[c], u[4 + c], 0x20));
      _mm256_storeu_ps(dst + (4 + c) * 8, _mm256_permute2f128_ps(u[c], u[4 + c], 0x31));
    }
  }
};

}  // namespace

void sim_strip_avx2(const float* a, int64_t lda, int rows, const float* bt, int64_t ldb, int dim, float scale,
                    float bias, float* out, int64_t ldo) {
  simd_tile::sim_strip<V256>(a, lda, rows, bt, ldb, dim, scale, bias, out, ldo);
}

void soft_rows_avx2(const float* s, int rows, int L2, int64_t ld, float shift, float* tmp, float* col,
                    double* row_acc) {
  simd_tile::soft_rows<V256>(s, rows, L2, ld, shift, tmp, col, row_acc);
}

DpEnd dp_strips_avx2(const StripDpArgs& a) { return dp_simd::dispatch<D256>(a); }

bool all_finite_avx2(const float* v, int64_t count) {
  const __m256i expo = _mm256_set1_epi32(0x7f800000);
  __m256i bad = _mm256_setzero_si256();
  int64_t k = 0;
  for (; k + 8 <= count; k += 8) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + k));
    bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(_mm256_and_si256(u, expo), expo));
  }
  return _mm256_testz_si256(bad, bad) && all_finite_scalar(v + k, count - k);
}

}  // namespace rnabert

#endif  // RNABERT_HAVE_X86_SIMD
