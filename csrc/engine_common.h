// Host-side logic the CPU engine (csrc/) and the GPU engine (cuda/, via the include path csrc) share, so
// that both check input, order work and return results the same way: set and pair-list checks, pair order
// by cost, all-vs-all output (dense, top-k heaps, threshold), and the reference pairs of explicit-matrix
// alignment. Plain C++ (no CUDA, no Python); templates take each engine's own structs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace rnabert {

// A ragged set's layout (Set: SeqSet or HostSet): n >= 1 sequences of 1 to 2^24 rows, width >= 1.
template <class Set>
void check_layout(const Set& s, const char* name) {
  if (s.n < 1) throw std::invalid_argument(std::string(name) + ": needs at least one sequence");
  if (s.dim < 1) throw std::invalid_argument(std::string(name) + ": embedding width must be >= 1");
  if (s.offsets[0] != 0) throw std::invalid_argument(std::string(name) + ": offsets must start at 0");
  for (int64_t k = 0; k < s.n; ++k) {
    const int64_t len = s.offsets[k + 1] - s.offsets[k];
    if (len <= 0)
      throw std::invalid_argument(std::string(name) + ": offsets must be strictly increasing (sequence " +
                                  std::to_string(k) + " is empty)");
    if (len > (int64_t)1 << 24)
      throw std::invalid_argument(std::string(name) + ": sequence " + std::to_string(k) + " is too long");
  }
}

// Every pair (i, j) indexes a query of a and a target of b.
template <class Set>
void check_pair_range(const Set& a, const Set& b, const int64_t* pairs, int64_t m) {
  for (int64_t k = 0; k < m; ++k) {
    const int64_t i = pairs[2 * k], j = pairs[2 * k + 1];
    if (i < 0 || i >= a.n)
      throw std::invalid_argument("pairs: row " + std::to_string(k) + " has query index " + std::to_string(i) +
                                  " out of range [0, " + std::to_string(a.n) + ")");
    if (j < 0 || j >= b.n)
      throw std::invalid_argument("pairs: row " + std::to_string(k) + " has target index " + std::to_string(j) +
                                  " out of range [0, " + std::to_string(b.n) + ")");
  }
}

// Pair indices ordered by cost_of(k) (e.g. L1*L2), largest first; equal costs in (query, target, index)
// order, so consecutive tasks share sequences.
template <class CostOf>
std::vector<int64_t> pairs_by_cost(const int64_t* pairs, int64_t m, CostOf cost_of) {
  std::vector<int64_t> order(m), cost(m);
  for (int64_t k = 0; k < m; ++k) cost[k] = cost_of(k);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    if (cost[x] != cost[y]) return cost[x] > cost[y];
    if (pairs[2 * x] != pairs[2 * y]) return pairs[2 * x] < pairs[2 * y];
    if (pairs[2 * x + 1] != pairs[2 * y + 1]) return pairs[2 * x + 1] < pairs[2 * y + 1];
    return x < y;
  });
  return order;
}

// Threshold output: tiles come in row blocks; returns res sorted into (i, j) order.
template <class Result>
Result sorted_by_pair(const Result& res) {
  std::vector<int64_t> idx(res.i.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(),
            [&](int64_t x, int64_t y) { return res.i[x] != res.i[y] ? res.i[x] < res.i[y] : res.j[x] < res.j[y]; });
  Result sorted;
  for (int64_t x : idx) {
    sorted.i.push_back(res.i[x]);
    sorted.j.push_back(res.j[x]);
    sorted.score.push_back(res.score[x]);
  }
  return sorted;
}

// All-vs-all top-k: one min-heap of (score, partner) per query; the worst kept partner sits on top.
class TopKHeaps {
 public:
  TopKHeaps(int64_t queries, int64_t k) : heaps_(queries), k_(k) {}

  void offer(int64_t q, int64_t t, float s) {
    auto& h = heaps_[q];
    const Entry e{s, t};
    if ((int64_t)h.size() < k_) {
      h.push_back(e);
      std::push_heap(h.begin(), h.end(), better);
    } else if (better(e, h.front())) {
      std::pop_heap(h.begin(), h.end(), better);
      h.back() = e;
      std::push_heap(h.begin(), h.end(), better);
    }
  }

  // Appends each query's partners to res (fields i, j, score), best first, queries in order.
  template <class Result>
  void append_to(Result& res) {
    for (int64_t q = 0; q < (int64_t)heaps_.size(); ++q) {
      auto& h = heaps_[q];
      std::sort(h.begin(), h.end(), better);
      for (const Entry& e : h) {
        res.i.push_back(q);
        res.j.push_back(e.second);
        res.score.push_back(e.first);
      }
    }
  }

 private:
  using Entry = std::pair<float, int64_t>;
  static bool better(const Entry& x, const Entry& y) {  // heap order: x before y when x is better
    if (x.first != y.first) return x.first > y.first;
    return x.second < y.second;
  }
  std::vector<std::vector<Entry>> heaps_;
  int64_t k_;
};

// All-vs-all output (Output: the engine's AvaOutput, Result: its AvaResult): each scored pair goes into the
// dense n_a x n_b matrix, the top-k heaps or the threshold list; finish() returns the (i, j, score) lists.
template <class Result, class Output>
class AvaCollector {
 public:
  AvaCollector(Output output, bool self, int64_t na, int64_t nb, int64_t top_k, float min_score, float* dense_out)
      : output_(output),
        self_(self),
        nb_(nb),
        min_score_(min_score),
        dense_(dense_out),
        heaps_(output == Output::kTopK ? na : 0, top_k) {}

  // The score of pair (i, j); with one set (self) it stands for (j, i) too.
  void add(int64_t i, int64_t j, float s) {
    switch (output_) {
      case Output::kDense:
        dense_[i * nb_ + j] = s;
        if (self_) dense_[j * nb_ + i] = s;
        break;
      case Output::kTopK:
        heaps_.offer(i, j, s);
        if (self_) heaps_.offer(j, i, s);
        break;
      case Output::kThreshold:
        if (s >= min_score_) {
          res_.i.push_back(i);
          res_.j.push_back(j);
          res_.score.push_back(s);
        }
        break;
    }
  }

  Result finish() {
    if (output_ == Output::kTopK) heaps_.append_to(res_);
    if (output_ == Output::kThreshold) return sorted_by_pair(res_);  // tiles come in row blocks
    return res_;
  }

 private:
  Output output_;
  bool self_;
  int64_t nb_;
  float min_score_;
  float* dense_;
  TopKHeaps heaps_;
  Result res_;
};

// Explicit matrices: checks each shape and its reference pairs (reference[p] may be null or missing), and
// returns the pairs per matrix sorted by row, duplicates removed.
inline std::vector<std::vector<std::pair<int64_t, int64_t>>> reference_pairs(
    int64_t m, const std::vector<int64_t>& rows, const std::vector<int64_t>& cols,
    const std::vector<const int64_t*>& reference, const std::vector<int64_t>& nref) {
  std::vector<std::vector<std::pair<int64_t, int64_t>>> refs(m);
  for (int64_t p = 0; p < m; ++p) {
    if (rows[p] < 1 || cols[p] < 1)
      throw std::invalid_argument("matrices: matrix " + std::to_string(p) + " is empty (shape " +
                                  std::to_string(rows[p]) + " x " + std::to_string(cols[p]) + ")");
    if (p < (int64_t)reference.size() && reference[p]) {
      for (int64_t k = 0; k < nref[p]; ++k) {
        const int64_t i = reference[p][2 * k], j = reference[p][2 * k + 1];
        if (i < 0 || i >= rows[p] || j < 0 || j >= cols[p])
          throw std::invalid_argument("reference: pair (" + std::to_string(i) + ", " + std::to_string(j) +
                                      ") of matrix " + std::to_string(p) + " is outside its " +
                                      std::to_string(rows[p]) + " x " + std::to_string(cols[p]) + " shape");
        refs[p].emplace_back(i, j);
      }
      std::sort(refs[p].begin(), refs[p].end());
      refs[p].erase(std::unique(refs[p].begin(), refs[p].end()), refs[p].end());
    }
  }
  return refs;
}

}  // namespace rnabert
