# Sources of rnabert._cuda beyond the skeleton (included by CMakeLists.txt).
list(APPEND RNABERT_CUDA_SOURCES
  cuda/dp.cu
  cuda/engine.cu
  cuda/planning.cpp
)
# The kernels must round exactly as the CPU engine does: no automatic multiply-add contraction (the
# borders' gap_open + gap_extend * j is two roundings on the CPU, where the baseline x86-64 build has
# no FMA and the SIMD units do not contract it). Dot products use explicit fmaf, as the CPU's fmadd.
set_source_files_properties(cuda/dp.cu PROPERTIES COMPILE_OPTIONS "--fmad=false")
