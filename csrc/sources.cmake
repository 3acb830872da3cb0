# Sources of rnabert._core beyond the skeleton (included by CMakeLists.txt).
list(APPEND RNABERT_CORE_SOURCES
  csrc/similarity.cpp
  csrc/dp.cpp
  csrc/engine.cpp
)
list(APPEND RNABERT_CORE_SIMD_AVX2_SOURCES csrc/similarity_avx2.cpp)
list(APPEND RNABERT_CORE_SIMD_AVX512_SOURCES csrc/similarity_avx512.cpp)
