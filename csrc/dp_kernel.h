// The CPU dynamic-programming driver: runs one L1 x L2 problem on the fastest DP kernel for the SIMD level
// (strips of 8 or 16 rows updated an anti-diagonal at a time, dp_simd.h), or on the portable row loop
// below, fed match scores strip by strip through a StripFill callback. O(L2) state; traceback as bits.
// Baseline translation units only.
#pragma once

#include <cstdint>
#include <vector>

#include "dp_recurrence.h"
#include "dp_strips.h"
#include "similarity.h"

namespace rnabert {

struct DpWork {
  std::vector<float> H, E, last_col, strip, full, skew, hstep, estep;
  std::vector<uint8_t> tb;    // scalar kernel: one byte per cell
  std::vector<uint16_t> tbm;  // strip kernels: kTraceMasks masks per step
  std::vector<int32_t> rev;   // traceback pairs, end to start
  int lanes = 0;              // which kernel filled the traceback (0: scalar bytes)
};

constexpr int kScalarStripRows = 16;

// The portable kernel: a row loop over dp::cell_update. Rows of match scores come from `fill`, 16 at a time.
template <bool kTrace>
DpEnd dp_rows(int L1, int L2, const dp::Scoring& sc, StripFill fill, void* ctx, int64_t ld, DpWork& w) {
  using namespace dp;
  if ((int64_t)w.H.size() < L2 + 1) {
    w.H.resize(L2 + 1);
    w.E.resize(L2 + 1);
  }
  if ((int64_t)w.last_col.size() < L1 + 1) w.last_col.resize(L1 + 1);
  if ((int64_t)w.strip.size() < kScalarStripRows * ld) w.strip.resize(kScalarStripRows * ld);
  uint8_t* tb = nullptr;
  if (kTrace) {
    if ((int64_t)w.tb.size() < (int64_t)L1 * L2) w.tb.resize((int64_t)L1 * L2);
    tb = w.tb.data();
  }
  float* H = w.H.data();
  float* E = w.E.data();
  const bool local = sc.mode == kLocal;
  const float oe = sc.gap_open + sc.gap_extend;
  const float ge = sc.gap_extend;
  for (int j = 0; j <= L2; ++j) {
    H[j] = border_top(sc, j);
    E[j] = kNegInf;
  }
  w.last_col[0] = H[L2];
  DpEnd best{0.0f, 0, 0};
  for (int i = 1; i <= L1; ++i) {
    const int r = (i - 1) % kScalarStripRows;
    if (r == 0) {
      const int rows = L1 - (i - 1) < kScalarStripRows ? L1 - (i - 1) : kScalarStripRows;
      fill(ctx, i - 1, rows, w.strip.data(), ld);
    }
    const float* m = w.strip.data() + r * ld;
    float diag = H[0];
    float hleft = border_left(sc, i);
    H[0] = hleft;
    float f = kNegInf;
    uint8_t* trow = kTrace ? tb + (int64_t)(i - 1) * L2 - 1 : nullptr;
    for (int j = 1; j <= L2; ++j) {
      float e;
      uint8_t dir;
      const float up = H[j];
      const float h = cell_update(diag, up, E[j], hleft, f, m[j - 1], oe, ge, local, &e, &f, &dir);
      diag = up;
      H[j] = h;
      E[j] = e;
      hleft = h;
      if (kTrace) trow[j] = dir;
    }
    if (local) {  // first strict maximum in row-major order
      for (int j = 1; j <= L2; ++j)
        if (H[j] > best.score) best = DpEnd{H[j], i, j};
    }
    w.last_col[i] = H[L2];
  }
  if (sc.mode == kGlobal) return DpEnd{H[L2], L1, L2};
  if (local) return best;
  // Semi-global: the corner first, then the last row right to left, then (free ends in both) the last
  // column bottom to top; a later candidate must be strictly better.
  best = DpEnd{H[L2], L1, L2};
  for (int j = L2 - 1; j >= 0; --j)
    if (H[j] > best.score) best = DpEnd{H[j], L1, j};
  if (sc.free_ends == kFreeBoth)
    for (int i = L1 - 1; i >= 0; --i)
      if (w.last_col[i] > best.score) best = DpEnd{w.last_col[i], i, L2};
  return best;
}

inline int strip_lanes(SimdLevel level) { return level == kAvx512 ? 16 : level == kAvx2 ? 8 : 0; }

// One problem on the kernel of `level`. ld: the row stride `fill` writes with (>= L2).
template <bool kTrace>
DpEnd dp_run(int L1, int L2, const dp::Scoring& sc, SimdLevel level, StripFill fill, void* ctx, int64_t ld, DpWork& w) {
  const int lanes = strip_lanes(level);
  w.lanes = kTrace ? lanes : w.lanes;
  if (lanes == 0) return dp_rows<kTrace>(L1, L2, sc, fill, ctx, ld, w);
#if defined(RNABERT_HAVE_X86_SIMD)
  const int64_t steps = L2 + 2 * kMaxLanes;
  const int64_t sld = ld + kStripLead + kStripTail;
  if ((int64_t)w.strip.size() < kMaxLanes * sld + kStripLead) w.strip.resize(kMaxLanes * sld + kStripLead);
  if ((int64_t)w.skew.size() < steps * kMaxLanes) {
    w.skew.resize(steps * kMaxLanes);
    w.hstep.resize(steps * kMaxLanes);
    w.estep.resize(steps * kMaxLanes);
  }
  if ((int64_t)w.H.size() < L2 + 1) {
    w.H.resize(L2 + 1);
    w.E.resize(L2 + 1);
  }
  if ((int64_t)w.last_col.size() < L1 + 1) w.last_col.resize(L1 + 1);
  if (kTrace) {
    const int64_t need = (int64_t)((L1 + lanes - 1) / lanes) * (L2 + lanes - 1) * kTraceMasks;
    if ((int64_t)w.tbm.size() < need) w.tbm.resize(need);
  }
  StripDpArgs a{L1,
                L2,
                sc,
                fill,
                ctx,
                w.strip.data() + kStripLead,
                sld,
                w.skew.data(),
                w.H.data(),
                w.E.data(),
                w.hstep.data(),
                w.estep.data(),
                w.last_col.data(),
                kTrace ? w.tbm.data() : nullptr,
                kTrace};
  return level == kAvx512 ? dp_strips_avx512(a) : dp_strips_avx2(a);
#else
  return dp_rows<kTrace>(L1, L2, sc, fill, ctx, ld, w);
#endif
}

// Follows the traceback of the last dp_run<true> from `end`; appends the aligned pairs (i, j), in
// increasing order, to out (flattened: i, j, i, j, ...).
inline void dp_traceback(int L2, const DpEnd& end, DpWork& w, std::vector<int32_t>& out) {
  w.rev.clear();
  int i = end.i, j = end.j, state = 0, aligned = 0;
  while (i > 0 && j > 0) {
    const uint8_t dir =
        w.lanes == 0 ? w.tb[(int64_t)(i - 1) * L2 + (j - 1)] : strip_dir(w.tbm.data(), w.lanes, L2, i, j);
    if (!dp::trace_step(dir, &state, &i, &j, &aligned)) break;
    if (aligned) {
      w.rev.push_back(j);
      w.rev.push_back(i);
    }
  }
  for (int64_t k = (int64_t)w.rev.size() - 1; k >= 0; --k) out.push_back(w.rev[k]);
}

}  // namespace rnabert
