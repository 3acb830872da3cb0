// Portable similarity and soft-alignment kernels (baseline instruction set), and the run-time choice of kernel.
#include "similarity.h"

#include <cmath>
#include <cstring>

#include "cpu_features.h"

namespace rnabert {

SimdLevel simd_level_now(int forced) {
  const char* name = best_simd_level();  // reads RNABERT_SIMD at every call
  int best = std::strcmp(name, "avx512") == 0 ? 2 : std::strcmp(name, "avx2") == 0 ? 1 : 0;
  if (forced >= 0 && forced < best) best = forced;
  return static_cast<SimdLevel>(best);
}

void sim_strip_scalar(const float* a, int64_t lda, int rows, const float* bt, int64_t ldb, int dim, float scale,
                      float bias, float* out, int64_t ldo) {
  for (int r = 0; r < rows; ++r) {
    float* o = out + r * ldo;
    const float* ar = a + r * lda;
    for (int64_t j = 0; j < ldb; ++j) o[j] = 0.0f;
    for (int k = 0; k < dim; ++k) {
      const float av = ar[k];
      const float* b = bt + k * ldb;
      for (int64_t j = 0; j < ldb; ++j) o[j] += av * b[j];
    }
    for (int64_t j = 0; j < ldb; ++j) o[j] = scale * o[j] + bias;
  }
}

void soft_rows_scalar(const float* s, int rows, int L2, int64_t ld, float shift, float* tmp, float* col,
                      double* row_acc) {
  float* C = col;
  float* ES = col + ld;
  float* X = col + 2 * ld;
  float* Y = col + 3 * ld;
  for (int r = 0; r < rows; ++r) {
    const float* srow = s + r * ld;
    float R = 0.0f, RES = 0.0f;
    for (int j = 0; j < L2; ++j) {
      const float e = std::exp(srow[j] - shift);
      tmp[j] = e;
      R += e;
      RES += e * srow[j];
    }
    *row_acc += (double)RES / (double)R;
    const float inv_r = 1.0f / R;
    for (int j = 0; j < L2; ++j) {
      const float e = tmp[j], es = e * srow[j], er = e * inv_r;
      C[j] += e;
      ES[j] += es;
      X[j] += er * es;
      Y[j] += er * e;
    }
  }
}

StripKernel strip_kernel(SimdLevel level) {
#if defined(RNABERT_HAVE_X86_SIMD)
  if (level == kAvx512) return &sim_strip_avx512;
  if (level == kAvx2) return &sim_strip_avx2;
#else
  (void)level;
#endif
  return &sim_strip_scalar;
}

bool all_finite_scalar(const float* v, int64_t count) {
  uint32_t bad = 0;
  for (int64_t k = 0; k < count; ++k) {
    uint32_t u;
    std::memcpy(&u, v + k, 4);
    bad |= (u & 0x7f800000u) == 0x7f800000u;
  }
  return bad == 0;
}

FiniteKernel finite_kernel(SimdLevel level) {
#if defined(RNABERT_HAVE_X86_SIMD)
  if (level == kAvx512) return &all_finite_avx512;
  if (level == kAvx2) return &all_finite_avx2;
#else
  (void)level;
#endif
  return &all_finite_scalar;
}

SoftKernel soft_kernel(SimdLevel level) {
#if defined(RNABERT_HAVE_X86_SIMD)
  if (level == kAvx512) return &soft_rows_avx512;
  if (level == kAvx2) return &soft_rows_avx2;
#else
  (void)level;
#endif
  return &soft_rows_scalar;
}

}  // namespace rnabert
