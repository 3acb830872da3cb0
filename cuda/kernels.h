// Launchers of the GPU engine's kernels (cuda/dp.cu): plain device pointers, sizes and a stream.
// Nothing here knows Python or owns memory; cuda/engine.cu plans the work and owns the buffers.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "dp_recurrence.h"

namespace rnabert {
namespace cuda_kernels {

enum class DType : int { kF32 = 0, kF16 = 1, kBF16 = 2 };

// Ragged embeddings on the device: sequence s is rows offsets[s]..offsets[s+1] of values (dim per row).
struct DevSeqs {
  const void* values = nullptr;
  const int64_t* offsets = nullptr;
};

// One launch: `m` items. Embedding mode: item k aligns query pairs[2k] of a with target pairs[2k+1] of b.
// Matrix mode (mats != nullptr): item k is matrix pairs[2k], rows x cols = dims[2p], dims[2p+1], stored
// row-major at mats + mat_offsets[p] (margins already applied by the host).
struct DpArgs {
  DevSeqs a, b;
  int dim = 0;
  DType dtype = DType::kF32;
  const float* mats = nullptr;
  const int64_t* mat_offsets = nullptr;
  const int64_t* dims = nullptr;
  const int64_t* pairs = nullptr;
  int64_t m = 0;
  dp::Scoring scoring{dp::kGlobal, dp::kFreeBoth, 1.0f, 0.1f};
  float scale = 1.0f, bias = 0.0f;
  // outputs: score of item k goes to scores[dst ? dst[k] : k]; end cell (i, j) to ends[2k], ends[2k+1]
  float* scores = nullptr;
  const int64_t* dst = nullptr;
  int32_t* ends = nullptr;
  // traceback (nullptr: score only): 4 bits per cell, row-major, rows of (L2 + 7) / 8 words, item k at
  // tb + tb_offsets[k] (in words)
  uint32_t* tb = nullptr;
  const int64_t* tb_offsets = nullptr;
  // per-warp-slot scratch: scratch_stride floats each, slots = warps of the grid
  float* scratch = nullptr;
  int64_t scratch_stride = 0;
};

struct LaunchShape {
  int blocks = 0, warps_per_block = 0;
  size_t shared_bytes = 0;
};

// Dynamic shared memory one warp needs: the 32 x 64 match ring, plus the 32-row strip of A (embeddings).
size_t dp_warp_shared_bytes(int dim, bool matrices);
// Grid for m items given the device's SM count and per-block shared-memory limit (throws when even one
// warp does not fit).
LaunchShape dp_launch_shape(int64_t m, int dim, bool matrices, int sm_count, size_t shared_optin);
// Scratch floats per warp slot: DP rows H and E of the longest target (+1) and the last column (+1);
// soft: row sums and column sums.
int64_t dp_scratch_floats(int64_t max_l1, int64_t max_l2);
int64_t soft_scratch_floats(int64_t max_l1, int64_t max_l2);

void launch_dp(const DpArgs& args, const LaunchShape& shape, cudaStream_t stream);

// Soft-alignment score (embedding mode only; uses a, b, dim, dtype, pairs, m, scores, dst, scratch).
void launch_soft(const DpArgs& args, float soft_scale, const LaunchShape& shape, cudaStream_t stream);

// Path reconstruction, one thread per item: follows the traceback bits from ends[k] and writes the
// aligned (i, j) pairs, in increasing order, at path + 2 * path_offsets[k]; their count to path_len[k].
void launch_traceback(const DpArgs& args, const int64_t* lens /* [m][2] L1, L2 */, const int64_t* path_offsets,
                      int32_t* path, int64_t* path_len, cudaStream_t stream);

}  // namespace cuda_kernels
}  // namespace rnabert
