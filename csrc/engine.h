// The CPU alignment engine: batched pairwise scoring and alignment of embedded sequences, all-vs-all
// streaming, and explicit-score-matrix alignment (with margins for loss-augmented inference).
//
// Plain pointers and sizes in, plain vectors out; nothing here knows Python (csrc/bindings.cpp does).
// User errors throw std::invalid_argument naming the argument.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "dp_recurrence.h"

namespace rnabert {

// A ragged block: sequence s is rows offsets[s]..offsets[s+1] of values (row-major, dim floats per row).
// Rows are expected to be unit length already (cosine = dot product).
struct SeqSet {
  const float* values = nullptr;
  const int64_t* offsets = nullptr;
  int64_t n = 0;
  int64_t dim = 0;
};

struct EngineParams {
  dp::Scoring scoring{dp::kGlobal, dp::kFreeBoth, 1.0f, 0.1f};
  float scale = 1.0f;  // match = scale * cos + bias
  float bias = 0.0f;
  float soft_scale = 1.3f;  // soft-alignment score: s = soft_scale * cos
  bool bf16 = false;        // opt-in: cosines from bf16-rounded vectors (AVX512_BF16 CPUs only)
};

// Ragged list of aligned pairs: the pairs of item p are path[2*offsets[p] .. 2*offsets[p+1]) as (i, j).
struct Paths {
  std::vector<float> scores;
  std::vector<int64_t> offsets;
  std::vector<int32_t> path;
};

// simd: -1 = best available (RNABERT_SIMD honoured, read at every call), else 0 scalar, 1 avx2, 2 avx512
// (capped at what the CPU can run). threads <= 0 = all cores.
void score_pairs(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, const EngineParams& p, int threads,
                 int simd, float* out);
Paths align_pairs(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, const EngineParams& p, int threads,
                  int simd);
void soft_scores(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, const EngineParams& p, int threads,
                 int simd, float* out);

// Explicit score matrices (used as-is: no scale/bias). reference[p] (may be null) holds nref[p] pairs
// (i, j) of the reference alignment, for margins: see dp.cpp for the exact decomposition.
Paths align_score_matrices(const std::vector<const float*>& mats, const std::vector<int64_t>& rows,
                           const std::vector<int64_t>& cols, const std::vector<const int64_t*>& reference,
                           const std::vector<int64_t>& nref, const dp::Scoring& scoring, float fp_margin,
                           float fn_margin, bool traceback, int threads, int simd = -1);

enum class AvaScore { kDp, kSoft };
enum class AvaOutput { kDense, kTopK, kThreshold };

struct AvaResult {
  std::vector<int64_t> i, j;
  std::vector<float> score;
};

// All pairs of one set (b == nullptr: i < j, dense output symmetric with self-scores on the diagonal) or
// query x target. dense_out: n_a x n_b floats when output is kDense. Work streams tile by tile; memory is
// bounded by the tile (plus the top-k heaps, k per query). progress(done_pairs) is called between tiles
// from the calling thread.
AvaResult all_vs_all(const SeqSet& a, const SeqSet* b, const EngineParams& p, AvaScore score, AvaOutput output,
                     int64_t top_k, float min_score, int threads, int simd, float* dense_out,
                     const std::function<void(int64_t, int64_t)>& progress);

int resolve_threads(int threads);

}  // namespace rnabert
