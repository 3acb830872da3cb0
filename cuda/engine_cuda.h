// The GPU engine's host side: the same operations as csrc/engine.h, on the current CUDA device.
//
// Host arrays in, host arrays out (copied through a stream: the caller's, or one created per call), plus
// entry points for data already on the device. Plain pointers and sizes; nothing here knows Python
// (cuda/bindings.cu does). User errors throw std::invalid_argument naming the argument; CUDA failures
// throw CudaError (cuda_check.h); a machine without a GPU gets a CudaError saying so.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "dp_recurrence.h"
#include "kernels.h"

namespace rnabert {
namespace cuda_engine {

// A ragged block in host memory (values of `dtype`; rows are unit length already).
struct HostSet {
  const void* values = nullptr;
  const int64_t* offsets = nullptr;
  int64_t n = 0;
  int64_t dim = 0;
  cuda_kernels::DType dtype = cuda_kernels::DType::kF32;
};

struct Params {
  dp::Scoring scoring{dp::kGlobal, dp::kFreeBoth, 1.0f, 0.1f};
  float scale = 1.0f, bias = 0.0f, soft_scale = 1.3f;
  bool bf16 = false;  // precision="bf16": fp32 inputs rounded to bf16 on upload, fp32 arithmetic
};

struct Paths {
  std::vector<float> scores;
  std::vector<int64_t> offsets;
  std::vector<int32_t> path;
};

struct AvaResult {
  std::vector<int64_t> i, j;
  std::vector<float> score;
};

enum class AvaScore { kDp, kSoft };
enum class AvaOutput { kDense, kTopK, kThreshold };

// Device bytes a call may use for its batches and tiles beyond the uploaded embeddings
// (RNABERT_CUDA_BUDGET_MB overrides the default of 1024 MiB; read at every call).
int64_t byte_budget();

// Throws CudaError when no CUDA device is usable (called after argument validation).
void require_device();

// Argument checks shared with the device-pointer entry points (std::invalid_argument naming the argument).
void check_set(const HostSet& s, const char* name, bool check_values);
void check_pairs(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m);

void score_pairs(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m, const Params& p,
                 cudaStream_t stream, float* out);
void soft_scores(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m, const Params& p,
                 cudaStream_t stream, float* out);
Paths align_pairs(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m, const Params& p,
                  cudaStream_t stream);
AvaResult all_vs_all(const HostSet& a, const HostSet* b, const Params& p, AvaScore score, AvaOutput output,
                     int64_t top_k, float min_score, cudaStream_t stream, float* dense_out,
                     const std::function<void(int64_t, int64_t)>& progress);
// Explicit matrices (used as-is), margins as csrc/dp.cpp (applied on the host before upload).
Paths align_score_matrices(const std::vector<const float*>& mats, const std::vector<int64_t>& rows,
                           const std::vector<int64_t>& cols, const std::vector<const int64_t*>& reference,
                           const std::vector<int64_t>& nref, const dp::Scoring& scoring, float fp_margin,
                           float fn_margin, bool traceback, cudaStream_t stream);

// Data already on the device (e.g. torch CUDA tensors): values [rows, dim] of `dtype`, offsets [n + 1]
// int64, pairs [m, 2] int64, out [m] float32, all device pointers; work is queued on `stream` (0: the
// legacy default stream is NOT used, a new stream is created and synchronised). The lengths and pairs are
// copied to the host once for planning, which synchronises `stream`; the scores are written asynchronously.
void score_pairs_device(const void* values, const int64_t* offsets, const int64_t* pairs, int64_t m, int64_t n,
                        int64_t dim, cuda_kernels::DType dtype, const Params& p, float* out, cudaStream_t stream);
// The same for the soft-alignment score (p.soft_scale).
void soft_scores_device(const void* values, const int64_t* offsets, const int64_t* pairs, int64_t m, int64_t n,
                        int64_t dim, cuda_kernels::DType dtype, const Params& p, float* out, cudaStream_t stream);

}  // namespace cuda_engine
}  // namespace rnabert
