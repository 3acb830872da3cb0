#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace rnabert {

static CpuFeatures detect() {
  CpuFeatures f;
#if defined(RNABERT_HAVE_X86_SIMD) && (defined(__GNUC__) || defined(__clang__))
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512_bf16 = __builtin_cpu_supports("avx512bf16");
  f.avx512_vnni = __builtin_cpu_supports("avx512vnni");
#endif
  return f;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

static int level_rank(const char* name) {
  if (std::strcmp(name, "avx512") == 0) return 2;
  if (std::strcmp(name, "avx2") == 0) return 1;
  return 0;
}

const char* best_simd_level() {
  const CpuFeatures& f = cpu_features();
  int best = 0;
#if defined(RNABERT_HAVE_X86_SIMD)
  if (f.avx2 && f.fma) best = 1;
  if (best == 1 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) best = 2;
#endif
  if (const char* forced = std::getenv("RNABERT_SIMD")) {
    int want = level_rank(forced);
    if (want < best) best = want;
  }
  static const char* names[] = {"scalar", "avx2", "avx512"};
  return names[best];
}

}  // namespace rnabert
