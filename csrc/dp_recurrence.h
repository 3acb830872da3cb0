// The affine-gap alignment recurrence, written once for the C++ and CUDA engines.
//
// Everything here is a plain function of floats and ints (no std:: containers, no allocation), marked
// RNABERT_HD so nvcc compiles it for both host and device. CPU and GPU engines must produce the same
// scores and the same alignments; they can only do so if they share this file.
//
// Indexing: rows i = 1..L1 are bases of sequence A (the query), columns j = 1..L2 bases of B (the
// target); match(i, j) is the score of aligning base i-1 of A with base j-1 of B.
//
// Three-state Gotoh, as the original RNABERT (its M/Mx/My):
//   E(i,j) = max(H(i-1,j) - open - extend, E(i-1,j) - extend)   a base of A against a gap ("up")
//   F(i,j) = max(H(i,j-1) - open - extend, F(i,j-1) - extend)   a base of B against a gap ("left")
//   D(i,j) = H(i-1,j-1) + match(i,j)
//   H(i,j) = max(D, E, F)                     (and 0 in local mode: a new alignment may start anywhere)
// A run of k gapped bases costs open + k*extend. Opening from H (not only from D) lets a gap in A follow
// a gap in B directly, each run paying its own opening, exactly as the original.
//
// Ties, as the original's traceback: H prefers D, then F (base of B against a gap), then E (base of A
// against a gap), i.e. E wins only when strictly greater than F; E and F prefer opening over extending.
// In local mode a cell whose best is <= 0 restarts (H = 0, kStop).
#pragma once

#include <stdint.h>

#ifdef __CUDACC__
#define RNABERT_HD __host__ __device__ __forceinline__
#else
// static: every translation unit (baseline and SIMD ones, compiled with different -m flags) keeps its own
// copy, so the linker can never hand a baseline caller a copy compiled for AVX-512.
#define RNABERT_HD static inline
#endif

namespace rnabert {
namespace dp {

enum Mode : int { kGlobal = 0, kLocal = 1, kSemiglobal = 2 };
// Semi-global end gaps: free at both ends of both sequences, or only in the target (query A inside B).
enum FreeEnds : int { kFreeBoth = 0, kFreeQuery = 1 };

// One traceback byte per cell: bits 0-1 say where H came from, bit 2 whether E extended, bit 3 whether F
// extended. (Only 4 bits are used; the CPU engine keeps a byte per cell for simple addressing.)
constexpr uint8_t kFromDiag = 0;
constexpr uint8_t kFromE = 1;  // base of A (row) against a gap
constexpr uint8_t kFromF = 2;  // base of B (column) against a gap
constexpr uint8_t kStop = 3;   // local mode: the alignment starts after this cell
constexpr uint8_t kSourceMask = 3;
constexpr uint8_t kEExtend = 4;
constexpr uint8_t kFExtend = 8;

// "Minus infinity" for impossible states: finite, so that subtracting gap costs never yields inf or NaN,
// and far below any reachable score (the original used -10000).
constexpr float kNegInf = -1.0e30f;

struct Scoring {
  int mode;          // Mode
  int free_ends;     // FreeEnds (semiglobal only)
  float gap_open;    // >= 0
  float gap_extend;  // >= 0
};

// H on the top border, H(0, j): nothing of A consumed yet, j bases of B.
RNABERT_HD float border_top(const Scoring& s, int j) {
  if (j == 0) return 0.0f;
  if (s.mode == kGlobal) return -(s.gap_open + s.gap_extend * (float)j);
  return 0.0f;  // local, and semiglobal in both variants: a leading gap in B is free
}

// H on the left border, H(i, 0): i bases of A consumed, none of B.
RNABERT_HD float border_left(const Scoring& s, int i) {
  if (i == 0) return 0.0f;
  if (s.mode == kGlobal || (s.mode == kSemiglobal && s.free_ends == kFreeQuery))
    return -(s.gap_open + s.gap_extend * (float)i);
  return 0.0f;
}

// The cell update. Inputs: H(i-1,j-1) diag_h, H(i-1,j) up_h, E(i-1,j) up_e, H(i,j-1) left_h,
// F(i,j-1) left_f, the match score, and open_extend = gap_open + gap_extend. Writes E(i,j), F(i,j) and
// the traceback byte; returns H(i,j).
RNABERT_HD float cell_update(float diag_h, float up_h, float up_e, float left_h, float left_f, float match,
                             float open_extend, float extend, bool local, float* e_out, float* f_out,
                             uint8_t* dir_out) {
  const float e_open = up_h - open_extend;
  const float e_ext = up_e - extend;
  const bool e_extends = e_ext > e_open;  // tie: open
  const float e = e_extends ? e_ext : e_open;
  const float f_open = left_h - open_extend;
  const float f_ext = left_f - extend;
  const bool f_extends = f_ext > f_open;
  const float f = f_extends ? f_ext : f_open;
  const float d = diag_h + match;
  // E only when strictly better than F; D when at least as good as both.
  const bool e_wins = e > f;
  const float ef = e_wins ? e : f;
  float h;
  uint8_t src;
  if (d >= ef) {
    h = d;
    src = kFromDiag;
  } else {
    h = ef;
    src = e_wins ? kFromE : kFromF;
  }
  if (local && !(h > 0.0f)) {
    h = 0.0f;
    src = kStop;
  }
  *e_out = e;
  *f_out = f;
  *dir_out = (uint8_t)(src | (e_extends ? kEExtend : 0) | (f_extends ? kFExtend : 0));
  return h;
}

// Traceback state machine, one step. state 0 = in H, 1 = in E, 2 = in F. Given the byte of cell (i, j),
// moves (i, j) and the state, and reports an aligned pair through *aligned (1 when (i-1, j-1) is aligned).
// Returns false when the alignment is finished (local kStop).
RNABERT_HD bool trace_step(uint8_t dir, int* state, int* i, int* j, int* aligned) {
  *aligned = 0;
  if (*state == 0) {
    const uint8_t src = dir & kSourceMask;
    if (src == kStop) return false;
    if (src == kFromDiag) {
      *aligned = 1;
      --*i;
      --*j;
    } else {
      *state = (src == kFromE) ? 1 : 2;
    }
    return true;
  }
  if (*state == 1) {
    if (!(dir & kEExtend)) *state = 0;  // this E was opened from H(i-1, j)
    --*i;
    return true;
  }
  if (!(dir & kFExtend)) *state = 0;
  --*j;
  return true;
}

}  // namespace dp
}  // namespace rnabert
