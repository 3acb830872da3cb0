// What instruction sets this CPU (and its OS) can run, asked once; the engine picks its kernels from it.
#pragma once

namespace rnabert {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_bf16 = false;
  bool avx512_vnni = false;
};

const CpuFeatures& cpu_features();

// The widest SIMD level compiled in that this CPU can run: "avx512", "avx2" or "scalar".
// RNABERT_SIMD (environment) can force a lower level, for tests and comparisons.
const char* best_simd_level();

}  // namespace rnabert
