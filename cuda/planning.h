// Host-side work planning for the GPU engine: pair order, batches under a byte budget, all-vs-all tiles.
//
// Pure C++ (no CUDA calls), so it is unit-tested on machines without a GPU through rnabert._cuda's
// plan_* functions. The kernels rely on these invariants: every pair lands in exactly one batch, pairs
// within a batch are ordered by cost so neighbouring warps of a block finish together, and a batch's
// device scratch never exceeds the budget unless one pair alone does (then it is a batch of its own).
#pragma once

#include <cstdint>
#include <vector>

namespace rnabert {
namespace cuda_plan {

// Device bytes one pair needs beyond the shared inputs: the traceback (4 bits per cell, rows padded to
// 32-bit words), its path slot (min(L1, L2) pairs of int32), the per-pair end record and score.
int64_t trace_bytes(int64_t L1, int64_t L2);
int64_t path_capacity(int64_t L1, int64_t L2);  // in aligned pairs
int64_t pair_bytes(int64_t L1, int64_t L2, bool trace);

// Pair indices by cost L1*L2, largest first; ties by (query, target, index), as the CPU engine.
std::vector<int64_t> order_by_cost(const int64_t* len_a, const int64_t* len_b, const int64_t* pairs, int64_t m);

// Splits `order` into consecutive batches whose pair_bytes sum stays <= budget (a pair alone over the
// budget gets its own batch) and which hold at most max_pairs pairs. Returns the batch starts plus m.
std::vector<int64_t> split_batches(const std::vector<int64_t>& order, const int64_t* len_a, const int64_t* len_b,
                                   const int64_t* pairs, bool trace, int64_t budget, int64_t max_pairs);

// Tiles (q0, q1, t0, t1) of the n_a x n_b grid of sequences, tile x tile each; self (one set): only tiles
// that meet i <= j (the kernel filters i < j, or i <= j with the diagonal for dense output).
std::vector<int64_t> tiles(int64_t n_a, int64_t n_b, bool self, int64_t tile);

// The pairs (i, j) of one tile, flattened, row by row: self excludes j < i, and j == i unless diagonal.
void tile_pairs(int64_t q0, int64_t q1, int64_t t0, int64_t t1, bool self, bool diagonal, std::vector<int64_t>& out);

// Sequence indices sorted by length (stable): all-vs-all tiles run over this order.
std::vector<int64_t> by_length(const int64_t* len, int64_t n);

// Tile edge so that one tile's pair list and scores fit `budget` bytes (>= 1).
int64_t tile_for_budget(int64_t budget);

}  // namespace cuda_plan
}  // namespace rnabert
