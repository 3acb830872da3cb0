// The DP over strips of W rows, the W cells of one anti-diagonal of the strip updated at once in SIMD
// lanes: lane r holds row i0 + 1 + r and at step t computes column t - r + 1. The values lane r needs from
// the row above come from lane r - 1's previous step (one lane shift); lane 0 takes them from the row
// buffer the previous strip left. Each lane performs exactly the operations of dp::cell_update (same
// operands, same order, same tie rules), so scores and traceback equal the scalar row loop's bit for bit.
//
// Included only by the SIMD translation units, instantiated over a vector trait V.
#pragma once

#include "dp_strips.h"

namespace rnabert {
namespace dp_simd {

template <bool B>
struct Tag {
  static constexpr bool value = B;
};

template <class V, bool kTrace, bool kLocal>
static DpEnd run(const StripDpArgs& a) {
  using reg = typename V::reg;
  using mask = typename V::mask;
  constexpr int W = V::width;
  const int L1 = a.L1, L2 = a.L2;
  const dp::Scoring& sc = a.sc;
  const float oe = sc.gap_open + sc.gap_extend, ge = sc.gap_extend;
  const reg v_oe = V::set1(oe), v_ge = V::set1(ge), v_zero = V::set1(0.0f);
  float* hrow = a.hrow;
  float* erow = a.erow;
  float* const hstep = a.hstep;  // locals: stores through float* could alias the argument struct
  float* const estep = a.estep;
  for (int j = 0; j <= L2; ++j) {
    hrow[j] = dp::border_top(sc, j);
    erow[j] = dp::kNegInf;
  }
  a.last_col[0] = hrow[L2];
  DpEnd best{0.0f, 0, 0};
  const int steps = L2 + W - 1;
  uint16_t* tb = a.tb;
  for (int i0 = 0; i0 < L1; i0 += W) {
    const int rows = L1 - i0 < W ? L1 - i0 : W;
    a.fill(a.ctx, i0, rows, a.strip, a.ld);
    // Skew the strip: skew[t * W + r] = match(i0 + r, t - r). Rows carry kStripLead finite columns before
    // and kStripTail after, so reads outside the matrix stay in the buffer; those values land only in
    // lanes that are inactive at that step.
    float* skew = a.skew;
    for (int t0 = 0; t0 < steps; t0 += W) V::skew_block(a.strip, a.ld, t0, skew + t0 * W);
    float init[W];
    for (int r = 0; r < W; ++r) init[r] = dp::border_left(sc, i0 + 1 + r);
    reg h = V::load(init);                  // H(i, j-1): the lane's last output
    reg e = V::set1(dp::kNegInf);           // E(i, j) of the lane's last output
    reg f = V::set1(dp::kNegInf);           // F(i, j-1)
    reg up_prev = V::shift_in(h, hrow[0]);  // diag for the next step
    reg best_v = V::set1(0.0f), best_t = V::set1(-1.0f);
    // One anti-diagonal step. kAll: every lane is inside the matrix (the long middle phase), so the
    // masked updates become plain ones.
    auto step = [&](auto all_tag, int t) {
      constexpr bool kAll = decltype(all_tag)::value;
      const int jn = t + 1 <= L2 ? t + 1 : L2;
      const reg up_h = V::shift_in(h, hrow[jn]);
      const reg up_e = V::shift_in(e, erow[jn]);
      const reg diag = up_prev;
      up_prev = up_h;
      const reg e_open = V::sub(up_h, v_oe), e_ext = V::sub(up_e, v_ge);
      const reg f_open = V::sub(h, v_oe), f_ext = V::sub(f, v_ge);
      const reg ne = V::max(e_open, e_ext);  // equal operands give the same value: tie rules only
      const reg nf = V::max(f_open, f_ext);  // matter for the traceback bits below
      const reg d = V::add(diag, V::load(skew + t * W));
      const reg ef = V::max(ne, nf);
      reg nh = V::max(d, ef);
      if (kLocal) nh = V::max(nh, v_zero);
      mask active{};
      if (kAll) {
        h = nh;
        e = ne;
        f = nf;
      } else {  // lanes inside the matrix at this step: 0 <= t - r <= L2 - 1
        active = V::lanes_between(t - L2 + 1, t);
        h = V::blend(active, h, nh);
        e = V::blend(active, e, ne);
        f = V::blend(active, f, nf);
      }
      V::store(hstep + t * W, h);
      V::store(estep + t * W, e);
      if (kTrace) {
        const mask not_diag = V::cmp_lt(d, ef);
        const mask e_wins = V::cmp_gt(ne, nf);
        uint16_t* m = tb + (int64_t)t * kTraceMasks;
        m[0] = (uint16_t)V::bits(V::and_(not_diag, e_wins));
        m[1] = (uint16_t)V::bits(V::andnot(e_wins, not_diag));
        m[2] = kLocal ? (uint16_t)V::bits(V::cmp_le(V::max(d, ef), v_zero)) : 0;
        m[3] = (uint16_t)V::bits(V::cmp_gt(e_ext, e_open));
        m[4] = (uint16_t)V::bits(V::cmp_gt(f_ext, f_open));
      }
      if (kLocal) {
        const mask gt = V::cmp_gt(nh, best_v);
        const mask better = kAll ? gt : V::and_(active, gt);
        best_v = V::blend(better, best_v, nh);
        best_t = V::blend(better, best_t, V::set1((float)t));
      }
    };
    const int mid_begin = W - 1, mid_end = L2;  // all lanes active for mid_begin <= t < mid_end
    int t = 0;
    for (; t < steps && (t < mid_begin || t >= mid_end); ++t) step(Tag<false>{}, t);
    for (; t < mid_end; ++t) step(Tag<true>{}, t);
    for (; t < steps; ++t) step(Tag<false>{}, t);
    if (kTrace) tb += (int64_t)steps * kTraceMasks;
    // The strip's last row becomes the row buffer of the next; its last column feeds semi-global ends.
    const int last = rows - 1;
    hrow[0] = dp::border_left(sc, i0 + rows);
    erow[0] = dp::kNegInf;
    for (int j = 1; j <= L2; ++j) {
      hrow[j] = hstep[(j - 1 + last) * W + last];
      erow[j] = estep[(j - 1 + last) * W + last];
    }
    for (int r = 0; r < rows; ++r) a.last_col[i0 + 1 + r] = hstep[(L2 - 1 + r) * W + r];
    if (kLocal) {  // lanes in row order; within a lane the first strict maximum was kept
      float bv[W], bt[W];
      V::store(bv, best_v);
      V::store(bt, best_t);
      for (int r = 0; r < rows; ++r)
        if (bt[r] >= 0.0f && bv[r] > best.score) best = DpEnd{bv[r], i0 + 1 + r, (int)bt[r] - r + 1};
    }
  }
  if (sc.mode == dp::kGlobal) return DpEnd{hrow[L2], L1, L2};
  if (kLocal) return best;
  best = DpEnd{hrow[L2], L1, L2};
  for (int j = L2 - 1; j >= 0; --j)
    if (hrow[j] > best.score) best = DpEnd{hrow[j], L1, j};
  if (sc.free_ends == dp::kFreeBoth)
    for (int i = L1 - 1; i >= 0; --i)
      if (a.last_col[i] > best.score) best = DpEnd{a.last_col[i], i, L2};
  return best;
}

template <class V>
static DpEnd dispatch(const StripDpArgs& a) {
  const bool local = a.sc.mode == dp::kLocal;
  if (a.trace) return local ? run<V, true, true>(a) : run<V, true, false>(a);
  return local ? run<V, false, true>(a) : run<V, false, false>(a);
}

}  // namespace dp_simd
}  // namespace rnabert
