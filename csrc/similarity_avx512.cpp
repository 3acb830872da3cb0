// AVX-512 instantiation of the similarity and soft-alignment kernels (this file is compiled with -mavx512f...).
#if defined(RNABERT_HAVE_X86_SIMD)  // x86 builds only (CMake compiles this file with its -m flags there)
#include <immintrin.h>

#include "dp_simd.h"
#include "simd_tile.h"
#include "similarity.h"

namespace rnabert {
namespace {

struct V512 {
  // 4 x 4 register blocks (16 accumulators) fit the 32 zmm registers; AVX2's 16 ymm take 4 x 3 at most.
  static constexpr bool wide_blocks = true;
  using reg = __m512;
  static constexpr int width = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static float hsum(reg v) { return _mm512_reduce_add_ps(v); }
  static reg mask_tail(reg v, int valid) {
    if (valid >= width) return v;
    if (valid <= 0) return zero();
    return _mm512_maskz_mov_ps((__mmask16)((1u << valid) - 1u), v);
  }
  // exp(x) for x <= 0: x = n ln2 + r, |r| <= ln2/2, exp(r) by its degree-6 Taylor polynomial
  // (relative error ~1.2e-7), 2^n through the exponent bits; flushes to 0 below -87.
  static reg exp_nonpos(reg x) {
    const reg lo = _mm512_set1_ps(-87.0f);
    const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_max_ps(x, lo);
    const reg n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    reg r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    reg p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mov_ps((__mmask16)~under, _mm512_mul_ps(p, _mm512_castsi512_ps(e)));
  }
};

struct D512 {
  using reg = __m512;
  using mask = __mmask16;
  static constexpr int width = 16;
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  // Lanes move up by one; lane 0 takes x.
  static reg shift_in(reg v, float x) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(v), _mm512_castps_si512(_mm512_set1_ps(x)), 15));
  }
  static mask lanes_between(int lo, int hi) {
    const unsigned upto = hi >= 15 ? 0xFFFFu : hi < 0 ? 0u : (1u << (hi + 1)) - 1u;
    const unsigned below = lo <= 0 ? 0u : lo >= 16 ? 0xFFFFu : (1u << lo) - 1u;
    return (mask)(upto & ~below);
  }
  static reg blend(mask k, reg a, reg b) { return _mm512_mask_blend_ps(k, a, b); }
  static mask cmp_lt(reg a, reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static mask cmp_gt(reg a, reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static mask cmp_le(reg a, reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static mask and_(mask a, mask b) { return (mask)(a & b); }
  static mask andnot(mask a, mask b) { return (mask)(~a & b); }
  static unsigned bits(mask k) { return (unsigned)k; }
  // dst[q * 16 + r] = src[r * ld + t0 - r + q] for q, r < 16: a 16 x 16 block of the strip, skewed so that
  // step t's lanes are one vector. Loads along rows, then an in-register transpose (64 shuffles).
  static void skew_block(const float* src, int64_t ld, int t0, float* dst) {
    __m512 r[16], t[16], u[16];
    for (int k = 0; k < 16; ++k) r[k] = _mm512_loadu_ps(src + k * ld + t0 - k);
    for (int k = 0; k < 8; ++k) {
      t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
      t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    for (int g = 0; g < 4; ++g) {  // u[4g + c], 128-bit lane L: column 4L + c of rows 4g..4g+3
      u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
      u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
      u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
      u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {  // 4 x 4 transpose of 128-bit lanes
      const __m512 x0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
      const __m512 x1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
      const __m512 x2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
      const __m512 x3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
      _mm512_storeu_ps(dst + (0 + c) * 16, _mm512_shuffle_f32x4(x0, x2, 0x88));
      _mm512_storeu_ps(dst + (4 + c) * 16, _mm512_shuffle_f32x4(x0, x2, 0xDD));
      _mm512_storeu_ps(dst + (8 + c) * 16, _mm512_shuffle_f32x4(x1, x3, 0x88));
      _mm512_storeu_ps(dst + (12 + c) * 16, _mm512_shuffle_f32x4(x1, x3, 0xDD));
    }
  }
};

}  // namespace

void sim_strip_avx512(const float* a, int64_t lda, int rows, const float* bt, int64_t ldb, int dim, float scale,
                      float bias, float* out, int64_t ldo) {
  simd_tile::sim_strip<V512>(a, lda, rows, bt, ldb, dim, scale, bias, out, ldo);
}

void soft_rows_avx512(const float* s, int rows, int L2, int64_t ld, float shift, float* tmp, float* col,
                      double* row_acc) {
  simd_tile::soft_rows<V512>(s, rows, L2, ld, shift, tmp, col, row_acc);
}

// bf16 similarity (opt-in): a holds rows of bf16 pairs (component 2p in the low half of word p), bt the
// targets as [pair p][column j] words; vdpbf16ps adds both products of a pair per lane, so the strip
// costs half the instructions of the fp32 kernel. Products are exact in fp32; the inputs are rounded.
#define RNABERT_BF16_TARGET __attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl,avx512dq,fma,avx2")))

template <int R, int C>
RNABERT_BF16_TARGET static inline void micro_bf16(const uint32_t* a, int64_t lda, const uint32_t* bt, int64_t ldb,
                                                  int npairs, float scale, float bias, float* out, int64_t ldo) {
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int p = 0; p < npairs; ++p) {
    __m512bh bv[C];
    for (int c = 0; c < C; ++c) bv[c] = (__m512bh)_mm512_loadu_si512((const void*)(bt + p * ldb + c * 16));
    for (int r = 0; r < R; ++r) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r * lda + p]);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], av, bv[c]);
    }
  }
  const __m512 vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(bias);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(out + r * ldo + c * 16, _mm512_fmadd_ps(acc[r][c], vs, vb));
}

template <int C>
RNABERT_BF16_TARGET static inline void cols_bf16(const uint32_t* a, int64_t lda, int rows, const uint32_t* bt,
                                                 int64_t ldb, int npairs, float scale, float bias, float* out,
                                                 int64_t ldo) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) micro_bf16<4, C>(a + r * lda, lda, bt, ldb, npairs, scale, bias, out + r * ldo, ldo);
  for (; r < rows; ++r) micro_bf16<1, C>(a + r * lda, lda, bt, ldb, npairs, scale, bias, out + r * ldo, ldo);
}

// Same blocking as the fp32 kernel (simd_tile.h): column blocks outermost, 4 rows x 64 columns.
RNABERT_BF16_TARGET void sim_strip_avx512_bf16(const float* a_words, int64_t lda, int rows, const float* bt_words,
                                               int64_t ldb, int npairs, float scale, float bias, float* out,
                                               int64_t ldo) {
  const uint32_t* a = reinterpret_cast<const uint32_t*>(a_words);
  const uint32_t* bt = reinterpret_cast<const uint32_t*>(bt_words);
  int64_t j = 0;
  for (; j + 64 <= ldb; j += 64) cols_bf16<4>(a, lda, rows, bt + j, ldb, npairs, scale, bias, out + j, ldo);
  for (; j + 48 <= ldb; j += 48) cols_bf16<3>(a, lda, rows, bt + j, ldb, npairs, scale, bias, out + j, ldo);
  for (; j < ldb; j += 16) cols_bf16<1>(a, lda, rows, bt + j, ldb, npairs, scale, bias, out + j, ldo);
}

bool all_finite_avx512(const float* v, int64_t count) {
  const __m512i expo = _mm512_set1_epi32(0x7f800000);
  __mmask16 bad = 0;
  int64_t k = 0;
  for (; k + 16 <= count; k += 16) {
    const __m512i u = _mm512_loadu_si512(v + k);
    bad |= _mm512_cmpeq_epi32_mask(_mm512_and_si512(u, expo), expo);
  }
  return bad == 0 && all_finite_scalar(v + k, count - k);
}

DpEnd dp_strips_avx512(const StripDpArgs& a) { return dp_simd::dispatch<D512>(a); }

}  // namespace rnabert

#endif  // RNABERT_HAVE_X86_SIMD
