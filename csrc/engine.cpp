// The CPU engine over embedded sequences: similarity strips (SIMD) fused with the DP, threads over pairs
// ordered by cost, and the all-vs-all tile stream.
#include "engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "cpu_features.h"
#include "dp_kernel.h"
#include "engine_common.h"
#include "parallel.h"
#include "similarity.h"

namespace rnabert {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? (int)hc : 1;
}

namespace {

constexpr int kStripRows = 16;  // rows of A per similarity strip fed to the DP
constexpr int64_t kPad = 16;    // B^T rows padded to a multiple of the widest SIMD width

void check_set(const SeqSet& s, const char* name) { check_layout(s, name); }

// NaN and inf are the floats whose exponent bits are all ones: an integer test, which the compiler vectorises
// (a float sum it may not reorder); the all-vs-all of few queries uses the SIMD level's own (finite_kernel).
bool all_finite(const float* v, int64_t count) { return all_finite_scalar(v, count); }

// NaN or inf in a sequence that will be used would poison its scores silently: refuse it. Sequences lo..hi-1.
void check_finite_range(const SeqSet& s, int64_t lo, int64_t hi, const std::vector<char>& used, const char* name) {
  for (int64_t q = lo; q < hi; ++q) {
    if (!used.empty() && !used[q]) continue;
    const float* v = s.values + s.offsets[q] * s.dim;
    const int64_t len = (s.offsets[q + 1] - s.offsets[q]) * s.dim;
    if (!all_finite(v, len)) {
      for (int64_t k = 0; k < len; ++k)
        if (!std::isfinite(v[k]))
          throw std::invalid_argument(std::string(name) + ": embeddings contain NaN or inf (sequence " +
                                      std::to_string(q) + ", row " + std::to_string(s.offsets[q] + k / s.dim) + ")");
    }
  }
}

void check_finite(const SeqSet& s, const std::vector<char>& used, const char* name) {
  check_finite_range(s, 0, s.n, used, name);
}

// Which sequences of each side the pairs touch (empty vector: all).
std::vector<char> used_by(const int64_t* pairs, int64_t m, int64_t n, int side) {
  std::vector<char> used(n, 0);
  for (int64_t k = 0; k < m; ++k) used[pairs[2 * k + side]] = 1;
  return used;
}

// B transposed and padded, per sequence: component k of base j of sequence s (first <= s < first + start.size())
// is data[start[s - first] + k * ld[s - first] + j]. Built once per call for a pair list (O(total_len * dim)),
// or one tile of targets at a time for the all-vs-all; shared by all workers.
struct Transposed {
  std::vector<float> data;
  std::vector<int64_t> start, ld;
  int64_t first = 0;
};

uint32_t bf16_bits(float x) {  // round to nearest even (inputs are finite)
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}

uint32_t bf16_pair(const float* v, int64_t k, int64_t dim) {
  const uint32_t lo = bf16_bits(v[2 * k]);
  const uint32_t hi = 2 * k + 1 < dim ? bf16_bits(v[2 * k + 1]) : 0u;
  return lo | (hi << 16);
}

// dst[c * ld + j] = src[j * dim + c] for j < len, c < dim; 4 x 4 blocks go through SSE registers.
void transpose_rows(const float* src, int64_t len, int64_t dim, float* dst, int64_t ld) {
  int64_t j = 0;
#if defined(__SSE2__)
  const int64_t dim4 = dim / 4 * 4;
  for (; j + 4 <= len; j += 4) {
    const float* s0 = src + j * dim;
    for (int64_t c = 0; c < dim4; c += 4) {
      __m128 r0 = _mm_loadu_ps(s0 + c), r1 = _mm_loadu_ps(s0 + dim + c);
      __m128 r2 = _mm_loadu_ps(s0 + 2 * dim + c), r3 = _mm_loadu_ps(s0 + 3 * dim + c);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(dst + c * ld + j, r0);
      _mm_storeu_ps(dst + (c + 1) * ld + j, r1);
      _mm_storeu_ps(dst + (c + 2) * ld + j, r2);
      _mm_storeu_ps(dst + (c + 3) * ld + j, r3);
    }
    for (int64_t c = dim4; c < dim; ++c)
      for (int64_t r = 0; r < 4; ++r) dst[c * ld + j + r] = src[(j + r) * dim + c];
  }
#endif
  for (; j < len; ++j)
    for (int64_t c = 0; c < dim; ++c) dst[c * ld + j] = src[j * dim + c];
}

// Sequences lo..hi-1 of s (those marked in used, when given) into t, reusing its buffers, by `workers` threads
// (a tile's copy would otherwise be serial work beside the DP's parallel one). Returns whether all their values
// are finite, tested on each sequence's copy while it is in cache (one pass over the source).
bool transpose_into(Transposed& t, const SeqSet& s, int64_t lo, int64_t hi, const std::vector<char>& used, bool bf16,
                    int workers = 1) {
  // Column-major per sequence, each column padded to kPad: fp32 has one row per dimension, bf16 one row per
  // pair of dimensions (two bf16 in a 32-bit word); padding is zero.
  const int64_t rows = bf16 ? (s.dim + 1) / 2 : s.dim;
  t.first = lo;
  t.start.resize(hi - lo);
  t.ld.resize(hi - lo);
  int64_t total = 0;
  for (int64_t k = lo; k < hi; ++k) {
    const int64_t len = s.offsets[k + 1] - s.offsets[k];
    t.ld[k - lo] = (len + kPad - 1) / kPad * kPad;
    t.start[k - lo] = total;
    if (used.empty() || used[k]) total += t.ld[k - lo] * rows;
  }
  t.data.resize(total);  // a reused buffer keeps old values: each sequence's padding is zeroed with its copy
  std::atomic<bool> finite{true};
  parallel_tasks(hi - lo, workers, [&](int64_t task, int) {
    const int64_t k = lo + task;
    if (!used.empty() && !used[k]) return;
    const int64_t len = s.offsets[k + 1] - s.offsets[k];
    const int64_t ld = t.ld[k - lo];
    const float* src = s.values + s.offsets[k] * s.dim;
    float* dst = t.data.data() + t.start[k - lo];
    for (int64_t c = 0; c < rows; ++c) std::fill(dst + c * ld + len, dst + (c + 1) * ld, 0.0f);
    bool ok;
    if (bf16) {
      uint32_t* words = reinterpret_cast<uint32_t*>(dst);
      for (int64_t j = 0; j < len; ++j)
        for (int64_t p = 0; p < rows; ++p) words[p * ld + j] = bf16_pair(src + j * s.dim, p, s.dim);
      ok = all_finite(src, len * s.dim);
    } else {
      transpose_rows(src, len, s.dim, dst, ld);
      ok = all_finite(dst, rows * ld);
    }
    if (!ok) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

Transposed transpose_set(const SeqSet& s, const std::vector<char>& used, bool bf16) {
  Transposed t;
  transpose_into(t, s, 0, s.n, used, bf16);
  return t;
}

struct Problem {
  const SeqSet* a;
  const SeqSet* b;
  const Transposed* bt;
  EngineParams p;
  StripKernel strip;
  SoftKernel soft;
  SimdLevel level;
  const float* avals;  // rows of A as the strip kernel reads them (fp32, or packed bf16 pairs)
  int64_t astride;     // words per row
  int kdim;            // the kernel's inner dimension (dim, or pairs)
  std::vector<float> apacked;
};

struct EmbFill {
  StripKernel kernel;
  const float* arows;
  int dim;
  const float* bt;
  int64_t ldb;
  float scale, bias;
  int64_t astride;
};

void emb_fill(void* ctx, int i0, int rows, float* out, int64_t ldo) {
  const EmbFill& f = *static_cast<const EmbFill*>(ctx);
  f.kernel(f.arows + (int64_t)i0 * f.astride, f.astride, rows, f.bt, f.ldb, f.dim, f.scale, f.bias, out, ldo);
}

template <bool kTrace>
DpEnd dp_pair(const Problem& pr, int64_t qa, int64_t tb_, DpWork& w) {
  const SeqSet& a = *pr.a;
  const int L1 = (int)(a.offsets[qa + 1] - a.offsets[qa]);
  const int L2 = (int)(pr.b->offsets[tb_ + 1] - pr.b->offsets[tb_]);
  EmbFill f{pr.strip,
            pr.avals + a.offsets[qa] * pr.astride,
            pr.kdim,
            pr.bt->data.data() + pr.bt->start[tb_ - pr.bt->first],
            pr.bt->ld[tb_ - pr.bt->first],
            pr.p.scale,
            pr.p.bias,
            pr.astride};
  return dp_run<kTrace>(L1, L2, pr.p.scoring, pr.level, &emb_fill, &f, f.ldb, w);
}

float soft_pair(const Problem& pr, int64_t qa, int64_t tb_, DpWork& w) {
  const SeqSet& a = *pr.a;
  const int L1 = (int)(a.offsets[qa + 1] - a.offsets[qa]);
  const int L2 = (int)(pr.b->offsets[tb_ + 1] - pr.b->offsets[tb_]);
  const int64_t ldb = pr.bt->ld[tb_ - pr.bt->first];
  const float* bt = pr.bt->data.data() + pr.bt->start[tb_ - pr.bt->first];
  const float* arows = pr.avals + a.offsets[qa] * pr.astride;
  const int64_t need = kStripRows * ldb + 5 * ldb;
  if ((int64_t)w.full.size() < need) w.full.resize(need);
  float* strip = w.full.data();
  float* tmp = strip + kStripRows * ldb;
  float* col = tmp + ldb;
  std::fill(col, col + 4 * ldb, 0.0f);
  double row_acc = 0.0;
  const float shift = std::fabs(pr.p.soft_scale);  // the largest s of unit vectors
  for (int i0 = 0; i0 < L1; i0 += kStripRows) {
    const int rows = std::min(kStripRows, L1 - i0);
    pr.strip(arows + (int64_t)i0 * pr.astride, pr.astride, rows, bt, ldb, pr.kdim, pr.p.soft_scale, 0.0f, strip, ldb);
    pr.soft(strip, rows, L2, ldb, shift, tmp, col, &row_acc);
  }
  double num = row_acc, ab = 0.0;
  for (int j = 0; j < L2; ++j) {
    const double inv_c = 1.0 / (double)col[j];
    num += ((double)col[ldb + j] - (double)col[2 * ldb + j]) * inv_c;
    ab += (double)col[3 * ldb + j] * inv_c;
  }
  return (float)(num / ((double)L1 + (double)L2 - ab));
}

Problem make_problem(const SeqSet& a, const SeqSet& b, const Transposed& bt, const EngineParams& p, int simd) {
  if (a.dim != b.dim)
    throw std::invalid_argument("targets: embedding width " + std::to_string(b.dim) + " differs from emb's " +
                                std::to_string(a.dim));
  const SimdLevel level = simd_level_now(simd);
  Problem pr{&a, &b, &bt, p, strip_kernel(level), soft_kernel(level), level, a.values, a.dim, (int)a.dim, {}};
  if (p.bf16) {
#if defined(RNABERT_HAVE_X86_SIMD)
    if (level != kAvx512 || !cpu_features().avx512_bf16)
      throw std::invalid_argument("precision='bf16' needs a CPU with AVX512_BF16 (and the avx512 SIMD level)");
    const int64_t npairs = (a.dim + 1) / 2, rows = a.offsets[a.n];
    pr.apacked.resize(rows * npairs);
    uint32_t* dst = reinterpret_cast<uint32_t*>(pr.apacked.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < npairs; ++k) dst[r * npairs + k] = bf16_pair(a.values + r * a.dim, k, a.dim);
    pr.strip = &sim_strip_avx512_bf16;
    pr.avals = pr.apacked.data();
    pr.astride = npairs;
    pr.kdim = (int)npairs;
#else
    throw std::invalid_argument("precision='bf16' needs an x86 build with AVX512_BF16");
#endif
  }
  return pr;
}

// Pair indices ordered by cost L1*L2, largest first, so the dynamic queue ends on small tasks.
std::vector<int64_t> order_by_cost(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m) {
  return pairs_by_cost(pairs, m, [&](int64_t k) {
    const int64_t i = pairs[2 * k], j = pairs[2 * k + 1];
    return (a.offsets[i + 1] - a.offsets[i]) * (b.offsets[j + 1] - b.offsets[j]);
  });
}

void check_pairs(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m) {
  check_pair_range(a, b, pairs, m);
}

// Validates a pair list and its sequences; returns the targets it touches, transposed.
Transposed prepare_pairs(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, bool bf16_wanted) {
  check_set(a, "emb");
  const bool same = a.values == b.values && a.offsets == b.offsets;
  if (!same) check_set(b, "targets");
  check_pairs(a, b, pairs, m);
  const std::vector<char> used_b = used_by(pairs, m, b.n, 1);
  const bool bf16 = bf16_wanted;
  std::vector<char> used_a = used_by(pairs, m, a.n, 0);
  if (same)
    for (int64_t q = 0; q < a.n; ++q) used_a[q] |= used_b[q];
  check_finite(a, used_a, "emb");
  if (!same) check_finite(b, used_b, "targets");
  return transpose_set(b, used_b, bf16);
}

// Runs fn(pair_index, worker_work) over the pairs, largest first.
template <class Fn>
void run_pairs(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, int threads, Fn&& fn,
               std::vector<DpWork>& work) {
  const std::vector<int64_t> order = order_by_cost(a, b, pairs, m);
  const int workers = (int)std::min<int64_t>(resolve_threads(threads), std::max<int64_t>(m, 1));
  if ((int)work.size() < workers) work.resize(workers);
  parallel_tasks(m, workers, [&](int64_t t, int worker) { fn(order[t], work[worker]); });
}

// Whether a pair's score is the same with its two sequences swapped: the recurrence treats rows and columns
// alike except for semi-global alignment with only the query's end gaps free. Each cell then takes the same max
// over the same sums (E and F trade places; a dot product's FMAs take the same operands in the same order), so the
// swapped scores are bit-identical, not just close.
bool swap_symmetric(const dp::Scoring& s) { return !(s.mode == dp::kSemiglobal && s.free_ends == dp::kFreeQuery); }

// Asks the cache for sequence t's rows (a hint; x86 with GCC or Clang only). An asm statement, because GCC 12
// deletes a loop of __builtin_prefetch (or _mm_prefetch) as a loop without side effects.
void prefetch_rows(const SeqSet& s, int64_t t) {
#if defined(__GNUC__) && defined(__x86_64__)
  const char* p = reinterpret_cast<const char*>(s.values + s.offsets[t] * s.dim);
  const char* end = reinterpret_cast<const char*>(s.values + s.offsets[t + 1] * s.dim);
  for (; p < end; p += 64) asm volatile("prefetcht0 %0" : : "m"(*p));
#else
  (void)s;
  (void)t;
#endif
}

// The all-vs-all of a few queries against many targets, with the roles swapped: each target is a DP's A side,
// read in place from its rows (no transposed copy of the targets: a search's prefilter scans millions of short
// coarse rows with one query, and copying them cost as much as the DP), and the queries, transposed once, are its
// B side. Each worker checks a target for NaN and inf just before aligning it, while its rows are in cache.
// Scores are those of the unswapped pairs (swap_symmetric); the collector's result does not depend on the order
// pairs are added in.
template <class Collect>
void ava_targets_outer(const SeqSet& a, const SeqSet& b, const EngineParams& p, int simd, int workers, Collect& collect,
                       const std::function<void(int64_t, int64_t)>& progress) {
  const int64_t na = a.n, nb = b.n;
  const Transposed qt = transpose_set(a, {}, false);
  const Problem pr = make_problem(b, a, qt, p, simd);
  const FiniteKernel finite = finite_kernel(pr.level);
  std::vector<DpWork> work(workers);
  const int64_t qrows = a.offsets[na] - a.offsets[0];
  // chunks of about 2e7 DP cells per worker (as the tiles below), so that progress and interrupts are seen
  constexpr double kChunkCells = 2.0e7;
  std::vector<int64_t> order;
  std::vector<float> scores;
  int64_t done = 0;
  for (int64_t t0 = 0, t1; t0 < nb; t0 = t1) {
    double cells = 0;
    for (t1 = t0; t1 < nb && (t1 == t0 || cells < kChunkCells * workers); ++t1)
      cells += (double)(b.offsets[t1 + 1] - b.offsets[t1]) * (double)std::max<int64_t>(qrows, 1);
    order.resize(t1 - t0);
    std::iota(order.begin(), order.end(), t0);
    // longest first, so the dynamic queue ends on short targets
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
      return b.offsets[x + 1] - b.offsets[x] > b.offsets[y + 1] - b.offsets[y];
    });
    scores.resize((t1 - t0) * na);
    // a task is a run of kGroup targets, so that a worker knows its next target and fetches its rows from memory
    // while it aligns the current one (the rows of a memory-mapped database lie in scattered 4-KB pages, which the
    // hardware prefetcher does not follow)
    constexpr int64_t kGroup = 16;
    const int64_t n = t1 - t0;
    parallel_tasks((n + kGroup - 1) / kGroup, workers, [&](int64_t task, int worker) {
      const int64_t g1 = std::min(n, (task + 1) * kGroup);
      for (int64_t g = task * kGroup; g < g1; ++g) {
        const int64_t t = order[g];
        const float* rows = b.values + b.offsets[t] * b.dim;
        if (g + 1 < g1) prefetch_rows(b, order[g + 1]);
        if (!finite(rows, (b.offsets[t + 1] - b.offsets[t]) * b.dim)) check_finite_range(b, t, t + 1, {}, "targets");
        for (int64_t i = 0; i < na; ++i) scores[(t - t0) * na + i] = dp_pair<false>(pr, t, i, work[worker]).score;
      }
    });
    for (int64_t i = 0; i < na; ++i)
      for (int64_t t = t0; t < t1; ++t) collect.add(i, t, scores[(t - t0) * na + i]);
    done += (t1 - t0) * na;
    if (progress) progress(done, na * nb);
  }
}

}  // namespace

void score_pairs(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, const EngineParams& p, int threads,
                 int simd, float* out) {
  const Transposed bt = prepare_pairs(a, b, pairs, m, p.bf16);
  const Problem pr = make_problem(a, b, bt, p, simd);
  std::vector<DpWork> work;
  run_pairs(
      a, b, pairs, m, threads,
      [&](int64_t k, DpWork& w) { out[k] = dp_pair<false>(pr, pairs[2 * k], pairs[2 * k + 1], w).score; }, work);
}

void soft_scores(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, const EngineParams& p, int threads,
                 int simd, float* out) {
  const Transposed bt = prepare_pairs(a, b, pairs, m, p.bf16);
  const Problem pr = make_problem(a, b, bt, p, simd);
  std::vector<DpWork> work;
  run_pairs(
      a, b, pairs, m, threads, [&](int64_t k, DpWork& w) { out[k] = soft_pair(pr, pairs[2 * k], pairs[2 * k + 1], w); },
      work);
}

Paths align_pairs(const SeqSet& a, const SeqSet& b, const int64_t* pairs, int64_t m, const EngineParams& p, int threads,
                  int simd) {
  const Transposed bt = prepare_pairs(a, b, pairs, m, p.bf16);
  const Problem pr = make_problem(a, b, bt, p, simd);
  std::vector<DpWork> work;
  const int workers = std::max(1, (int)std::min<int64_t>(resolve_threads(threads), std::max<int64_t>(m, 1)));
  // Each worker appends its paths to its own buffer; where each pair's path lies is recorded and the
  // buffers are stitched together in pair order at the end.
  std::vector<std::vector<int32_t>> buf(workers);
  std::vector<int64_t> where(m), len(m);
  std::vector<int> owner(m);
  Paths res;
  res.scores.resize(m);
  work.resize(workers);
  const std::vector<int64_t> order = order_by_cost(a, b, pairs, m);
  parallel_tasks(m, workers, [&](int64_t t, int worker) {
    const int64_t k = order[t];
    DpWork& w = work[worker];
    const int64_t qa = pairs[2 * k], tb_ = pairs[2 * k + 1];
    const DpEnd end = dp_pair<true>(pr, qa, tb_, w);
    res.scores[k] = end.score;
    const int L2 = (int)(b.offsets[tb_ + 1] - b.offsets[tb_]);
    auto& out = buf[worker];
    where[k] = (int64_t)out.size();
    dp_traceback(L2, end, w, out);
    len[k] = (int64_t)out.size() - where[k];
    owner[k] = worker;
  });
  res.offsets.resize(m + 1);
  res.offsets[0] = 0;
  for (int64_t k = 0; k < m; ++k) res.offsets[k + 1] = res.offsets[k] + len[k] / 2;
  res.path.resize(2 * res.offsets[m]);
  for (int64_t k = 0; k < m; ++k)
    std::copy(buf[owner[k]].begin() + where[k], buf[owner[k]].begin() + where[k] + len[k],
              res.path.begin() + 2 * res.offsets[k]);
  return res;
}

AvaResult all_vs_all(const SeqSet& a, const SeqSet* b_or_null, const EngineParams& p, AvaScore score, AvaOutput output,
                     int64_t top_k, float min_score, int threads, int simd, float* dense_out,
                     const std::function<void(int64_t, int64_t)>& progress) {
  const bool self = b_or_null == nullptr;
  const SeqSet& b = self ? a : *b_or_null;
  check_set(a, "emb");
  check_finite(a, {}, "emb");
  if (!self) check_set(b, "targets");
  if (output == AvaOutput::kTopK && top_k < 1) throw std::invalid_argument("top_k must be >= 1");
  // Targets are checked and transposed one tile at a time into one reused buffer, while the tile is in
  // cache: a copy of a whole database (a search's prefilter scans millions of short coarse rows with one
  // query) cost more in page faults and memory traffic than the DP itself.
  Transposed bt;
  const Problem pr = make_problem(a, b, bt, p, simd);
  const int64_t na = a.n, nb = b.n;
  constexpr int64_t kTile = 256;
  const int workers = resolve_threads(threads);
  AvaCollector<AvaResult, AvaOutput> collect(output, self, na, nb, top_k, min_score, dense_out);
  // A few queries against targets: the targets are read in place as the DP's rows instead of being copied
  // (bf16 would pack every target: not worth it there).
  if (!self && score == AvaScore::kDp && !p.bf16 && na <= kTile && swap_symmetric(p.scoring)) {
    ava_targets_outer(a, b, p, simd, workers, collect, progress);
    return collect.finish();
  }
  // Self-pairs (i, i) are never aligned: a dense output's diagonal is NaN here, filled by the caller (the Python
  // layer takes it from the self-score formula, or aligns those pairs only where the formula does not hold).
  const int64_t total_pairs = self ? na * (na - 1) / 2 : na * nb;
  if (self && output == AvaOutput::kDense)
    for (int64_t i = 0; i < na; ++i) dense_out[i * na + i] = std::numeric_limits<float>::quiet_NaN();
  // A tile's pairs run in chunks of about kChunkCells DP cells per worker; progress (which also checks for
  // interrupts) is called after each, so a chunk of short or long sequences alike takes a fraction of a second.
  constexpr double kChunkCells = 2.0e7;
  // Tiles of the grid: kTile x kTile sequences, i.e. up to 65,536 pairs of scores in memory at a time. With
  // fewer than kTile queries against targets (a search's query against a database), a tile of kTile targets
  // holds too little work to pay for starting the workers: it widens to about kTile * kTile pairs, within
  // kTileRows target rows (the transposed copy: 32 MB at width 128).
  constexpr int64_t kTileRows = 1 << 13;
  std::vector<DpWork> work(workers);
  std::vector<int64_t> tile_pairs;
  std::vector<float> tile_scores;
  int64_t done = 0;
  for (int64_t q0 = 0; q0 < na; q0 += kTile) {
    const int64_t q1 = std::min(na, q0 + kTile);
    const int64_t wide = self ? kTile : std::max(kTile, kTile * kTile / (q1 - q0));
    for (int64_t t0 = self ? q0 : 0, t1; t0 < nb; t0 = t1) {
      t1 = std::min(nb, t0 + wide);
      if (t1 - t0 > kTile) {  // the last target whose rows fit, but at least kTile targets
        const int64_t* o = b.offsets;
        t1 = std::max(t0 + kTile, (int64_t)(std::upper_bound(o + t0 + kTile, o + t1 + 1, o[t0] + kTileRows) - o) - 1);
      }
      // targets are checked in their transposed copy (emb, checked above, when there is no second set); a tile
      // with NaN or inf is checked again to name the row
      if (!transpose_into(bt, b, t0, t1, {}, p.bf16, workers) && !self) check_finite_range(b, t0, t1, {}, "targets");
      tile_pairs.clear();
      for (int64_t i = q0; i < q1; ++i)
        for (int64_t j = self ? std::max(t0, i + 1) : t0; j < t1; ++j) {
          tile_pairs.push_back(i);
          tile_pairs.push_back(j);
        }
      const int64_t m_tile = (int64_t)tile_pairs.size() / 2;
      tile_scores.resize(m_tile);
      for (int64_t c0 = 0; c0 < m_tile;) {
        int64_t c1 = c0;
        double cells = 0;
        while (c1 < m_tile && (c1 == c0 || cells < kChunkCells * workers)) {
          cells += (double)(a.offsets[tile_pairs[2 * c1] + 1] - a.offsets[tile_pairs[2 * c1]]) *
                   (double)(b.offsets[tile_pairs[2 * c1 + 1] + 1] - b.offsets[tile_pairs[2 * c1 + 1]]);
          ++c1;
        }
        const int64_t m = c1 - c0;
        const int64_t* tp = tile_pairs.data() + 2 * c0;
        float* ts = tile_scores.data() + c0;
        if (score == AvaScore::kDp)
          run_pairs(
              a, b, tp, m, workers,
              [&](int64_t k, DpWork& w) { ts[k] = dp_pair<false>(pr, tp[2 * k], tp[2 * k + 1], w).score; }, work);
        else
          run_pairs(
              a, b, tp, m, workers, [&](int64_t k, DpWork& w) { ts[k] = soft_pair(pr, tp[2 * k], tp[2 * k + 1], w); },
              work);
        for (int64_t k = 0; k < m; ++k) collect.add(tp[2 * k], tp[2 * k + 1], ts[k]);
        done += m;
        if (progress) progress(done, total_pairs);
        c0 = c1;
      }
    }
  }
  return collect.finish();
}

}  // namespace rnabert
