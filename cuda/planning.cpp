// Host-side work planning for the GPU engine (see planning.h). No CUDA calls here.
#include "planning.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine_common.h"

namespace rnabert {
namespace cuda_plan {

int64_t trace_bytes(int64_t L1, int64_t L2) { return L1 * ((L2 + 7) / 8) * 4; }

int64_t path_capacity(int64_t L1, int64_t L2) { return std::min(L1, L2); }

int64_t pair_bytes(int64_t L1, int64_t L2, bool trace) {
  // pair indices (2 x int64), order entry, score, end (i, j): 40 bytes; traceback adds the bits, the path
  // slot and its offset/length.
  int64_t b = 40;
  if (trace) b += trace_bytes(L1, L2) + path_capacity(L1, L2) * 8 + 24;
  return b;
}

std::vector<int64_t> order_by_cost(const int64_t* len_a, const int64_t* len_b, const int64_t* pairs, int64_t m) {
  return pairs_by_cost(pairs, m, [&](int64_t k) { return len_a[pairs[2 * k]] * len_b[pairs[2 * k + 1]]; });
}

std::vector<int64_t> split_batches(const std::vector<int64_t>& order, const int64_t* len_a, const int64_t* len_b,
                                   const int64_t* pairs, bool trace, int64_t budget, int64_t max_pairs) {
  std::vector<int64_t> starts;
  const int64_t m = (int64_t)order.size();
  if (max_pairs < 1) max_pairs = 1;
  int64_t used = 0, count = 0;
  for (int64_t t = 0; t < m; ++t) {
    const int64_t k = order[t];
    const int64_t b = pair_bytes(len_a[pairs[2 * k]], len_b[pairs[2 * k + 1]], trace);
    if (count == 0 || used + b > budget || count >= max_pairs) {
      starts.push_back(t);
      used = 0;
      count = 0;
    }
    used += b;
    ++count;
  }
  starts.push_back(m);
  return starts;
}

std::vector<int64_t> tiles(int64_t n_a, int64_t n_b, bool self, int64_t tile) {
  std::vector<int64_t> out;
  if (tile < 1) tile = 1;
  for (int64_t q0 = 0; q0 < n_a; q0 += tile) {
    const int64_t q1 = std::min(n_a, q0 + tile);
    for (int64_t t0 = self ? q0 : 0; t0 < n_b; t0 += tile) {
      out.push_back(q0);
      out.push_back(q1);
      out.push_back(t0);
      out.push_back(std::min(n_b, t0 + tile));
    }
  }
  return out;
}

void tile_pairs(int64_t q0, int64_t q1, int64_t t0, int64_t t1, bool self, bool diagonal, std::vector<int64_t>& out) {
  out.clear();
  for (int64_t i = q0; i < q1; ++i)
    for (int64_t j = self ? std::max(t0, i + (diagonal ? 0 : 1)) : t0; j < t1; ++j) {
      out.push_back(i);
      out.push_back(j);
    }
}

std::vector<int64_t> by_length(const int64_t* len, int64_t n) {
  std::vector<int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](int64_t x, int64_t y) { return len[x] < len[y]; });
  return perm;
}

int64_t tile_for_budget(int64_t budget) {
  // Per pair of a tile: indices on host and device (2 x 16 bytes), order (8), score (2 x 4), end (8).
  const double pairs = std::max<double>(1.0, (double)budget / 64.0);
  return std::max<int64_t>(1, (int64_t)std::floor(std::sqrt(pairs)));
}

}  // namespace cuda_plan
}  // namespace rnabert
