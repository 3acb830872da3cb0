// Alignment of explicit score matrices, batched, with the margins of loss-augmented inference.
//
// Margins (Structural Alignment Learning). For a reference alignment A* (a set of pairs (i, j)) and any
// alignment A, the structured-hinge loss needs max_A [score(A) + Delta(A, A*)] with
//   Delta(A, A*) = fp * |A \ A*|  (false-positive pairs: aligned but not in the reference)
//                + fn * |A* \ A|  (false negatives: reference pairs left unaligned).
// Since |A* \ A| = |A*| - |A n A*|, Delta decomposes exactly over the aligned pairs of A:
//   Delta(A, A*) = fn * |A*| + sum over (i, j) in A of ( fp if (i, j) not in A* else -fn ).
// So the DP runs on match'(i, j) = S(i, j) + fp on every non-reference cell and S(i, j) - fn on every
// reference cell, and fn * |A*| is added to its optimum: the result is max_A [score(A) + Delta] exactly,
// and the returned path is its argmax. (Putting fn on the gap moves next to reference cells instead, as
// the original did, is not exact: a reference pair (i, j) can be missed with neither base gapped, when
// i and j are both aligned elsewhere.)
#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "dp_kernel.h"
#include "engine.h"
#include "engine_common.h"
#include "parallel.h"
#include "similarity.h"

namespace rnabert {

namespace {

// Rows of an explicit matrix, with the margins applied (reference pairs sorted by row).
struct MatFill {
  const float* S;
  int L2;
  bool margins;
  float fp, fn;
  const std::pair<int64_t, int64_t>* ref;
  size_t nref;
};

void mat_fill(void* ctx, int i0, int rows, float* out, int64_t ldo) {
  const MatFill& f = *static_cast<const MatFill*>(ctx);
  for (int r = 0; r < rows; ++r) {
    const float* src = f.S + (int64_t)(i0 + r) * f.L2;
    float* dst = out + r * ldo;
    if (!f.margins) {
      std::copy(src, src + f.L2, dst);
      continue;
    }
    for (int j = 0; j < f.L2; ++j) dst[j] = src[j] + f.fp;
  }
  if (!f.margins) return;
  const auto* lo = std::lower_bound(f.ref, f.ref + f.nref, std::make_pair((int64_t)i0, (int64_t)-1));
  for (const auto* p = lo; p != f.ref + f.nref && p->first < i0 + rows; ++p)
    out[(p->first - i0) * ldo + p->second] = f.S[p->first * f.L2 + p->second] - f.fn;
}

}  // namespace

Paths align_score_matrices(const std::vector<const float*>& mats, const std::vector<int64_t>& rows,
                           const std::vector<int64_t>& cols, const std::vector<const int64_t*>& reference,
                           const std::vector<int64_t>& nref, const dp::Scoring& scoring, float fp_margin,
                           float fn_margin, bool traceback, int threads, int simd) {
  const int64_t m = (int64_t)mats.size();
  const bool margins = fp_margin != 0.0f || fn_margin != 0.0f;
  // Reference pairs grouped by row (sorted, duplicates removed), per matrix.
  const std::vector<std::vector<std::pair<int64_t, int64_t>>> refs = reference_pairs(m, rows, cols, reference, nref);
  Paths res;
  res.scores.resize(m);
  std::vector<int64_t> order(m);
  for (int64_t p = 0; p < m; ++p) order[p] = p;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return rows[x] * cols[x] > rows[y] * cols[y]; });
  const int workers = std::max(1, (int)std::min<int64_t>(resolve_threads(threads), std::max<int64_t>(m, 1)));
  const SimdLevel level = simd_level_now(simd);
  std::vector<DpWork> work(workers);
  std::vector<std::vector<int32_t>> paths(traceback ? m : 0);
  parallel_tasks(m, workers, [&](int64_t t, int worker) {
    const int64_t p = order[t];
    DpWork& w = work[worker];
    const int L1 = (int)rows[p], L2 = (int)cols[p];
    MatFill f{mats[p], L2, margins, fp_margin, fn_margin, refs[p].data(), refs[p].size()};
    DpEnd end;
    if (traceback) {
      end = dp_run<true>(L1, L2, scoring, level, &mat_fill, &f, L2, w);
      dp_traceback(L2, end, w, paths[p]);
    } else {
      end = dp_run<false>(L1, L2, scoring, level, &mat_fill, &f, L2, w);
    }
    const auto& ref = refs[p];
    res.scores[p] = end.score + (margins ? fn_margin * (float)ref.size() : 0.0f);
  });
  res.offsets.assign(m + 1, 0);
  if (traceback) {
    for (int64_t p = 0; p < m; ++p) res.offsets[p + 1] = res.offsets[p] + (int64_t)paths[p].size() / 2;
    res.path.reserve(2 * res.offsets[m]);
    for (int64_t p = 0; p < m; ++p) res.path.insert(res.path.end(), paths[p].begin(), paths[p].end());
  }
  return res;
}

}  // namespace rnabert
