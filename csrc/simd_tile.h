// Similarity strip and soft-alignment tile kernels, written once over a small vector trait V and
// instantiated by similarity_avx2.cpp and similarity_avx512.cpp (each compiled for its instruction set).
// Include only from those translation units.
#pragma once

#include <cstdint>

namespace rnabert {
namespace simd_tile {

// out[r][j] = scale * dot(a_r, b_j) + bias for R rows and C vectors of columns at once: R*C accumulators
// stay in registers; per component k, C loads of B^T and R broadcasts of A feed R*C FMAs.
template <class V, int R, int C>
static inline void micro(const float* a, int64_t lda, const float* bt, int64_t ldb, int dim, float scale, float bias,
                         float* out, int64_t ldo) {
  typename V::reg acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = V::zero();
  for (int k = 0; k < dim; ++k) {
    typename V::reg bv[C];
    for (int c = 0; c < C; ++c) bv[c] = V::load(bt + k * ldb + c * V::width);
    for (int r = 0; r < R; ++r) {
      const typename V::reg av = V::set1(a[r * lda + k]);
      for (int c = 0; c < C; ++c) acc[r][c] = V::fmadd(av, bv[c], acc[r][c]);
    }
  }
  const typename V::reg vs = V::set1(scale), vb = V::set1(bias);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) V::store(out + r * ldo + c * V::width, V::fmadd(acc[r][c], vs, vb));
}

// All rows of the strip against one block of C vectors of columns: the block of B^T (dim x C*width
// floats, 30 KB at dim 120 and C*width 64) stays in L1 while every row group uses it.
template <class V, int C>
static inline void cols_block(const float* a, int64_t lda, int rows, const float* bt, int64_t ldb, int dim, float scale,
                              float bias, float* out, int64_t ldo) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) micro<V, 4, C>(a + r * lda, lda, bt, ldb, dim, scale, bias, out + r * ldo, ldo);
  switch (rows - r) {
    case 3:
      micro<V, 3, C>(a + r * lda, lda, bt, ldb, dim, scale, bias, out + r * ldo, ldo);
      break;
    case 2:
      micro<V, 2, C>(a + r * lda, lda, bt, ldb, dim, scale, bias, out + r * ldo, ldo);
      break;
    case 1:
      micro<V, 1, C>(a + r * lda, lda, bt, ldb, dim, scale, bias, out + r * ldo, ldo);
      break;
    default:
      break;
  }
}

// ldb must be a multiple of V::width. Column blocks outermost (see cols_block), widest first.
template <class V>
static void sim_strip(const float* a, int64_t lda, int rows, const float* bt, int64_t ldb, int dim, float scale,
                      float bias, float* out, int64_t ldo) {
  constexpr int w = V::width;
  int64_t j = 0;
  if (V::wide_blocks)
    for (; j + 4 * w <= ldb; j += 4 * w) cols_block<V, 4>(a, lda, rows, bt + j, ldb, dim, scale, bias, out + j, ldo);
  for (; j + 3 * w <= ldb; j += 3 * w) cols_block<V, 3>(a, lda, rows, bt + j, ldb, dim, scale, bias, out + j, ldo);
  if (j + 2 * w <= ldb) {
    cols_block<V, 2>(a, lda, rows, bt + j, ldb, dim, scale, bias, out + j, ldo);
    j += 2 * w;
  }
  for (; j < ldb; j += w) cols_block<V, 1>(a, lda, rows, bt + j, ldb, dim, scale, bias, out + j, ldo);
}

// Soft-alignment sums, one strip of rows at a time (see similarity.h for the decomposition).
template <class V>
static void soft_rows(const float* s, int rows, int L2, int64_t ld, float shift, float* tmp, float* col,
                      double* row_acc) {
  float* C = col;
  float* ES = col + ld;
  float* X = col + 2 * ld;
  float* Y = col + 3 * ld;
  const typename V::reg vshift = V::set1(shift);
  double acc = 0.0;
  for (int r = 0; r < rows; ++r) {
    const float* srow = s + r * ld;
    typename V::reg rs = V::zero(), res = V::zero();
    for (int64_t j = 0; j < L2; j += V::width) {
      const typename V::reg sv = V::load(srow + j);
      const typename V::reg e = V::mask_tail(V::exp_nonpos(V::sub(sv, vshift)), L2 - (int)j);
      V::store(tmp + j, e);
      rs = V::add(rs, e);
      res = V::fmadd(e, sv, res);
    }
    const float R = V::hsum(rs);
    acc += (double)V::hsum(res) / (double)R;
    const typename V::reg inv_r = V::set1(1.0f / R);
    for (int64_t j = 0; j < L2; j += V::width) {
      const typename V::reg e = V::load(tmp + j);
      const typename V::reg es = V::mul(e, V::load(srow + j));
      const typename V::reg er = V::mul(e, inv_r);
      V::store(C + j, V::add(V::load(C + j), e));
      V::store(ES + j, V::add(V::load(ES + j), es));
      V::store(X + j, V::fmadd(er, es, V::load(X + j)));
      V::store(Y + j, V::fmadd(er, e, V::load(Y + j)));
    }
  }
  *row_acc += acc;
}

}  // namespace simd_tile
}  // namespace rnabert
