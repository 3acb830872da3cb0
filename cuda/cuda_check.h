// Every CUDA call is checked and failures are thrown (never abort()), naming the file and line.
#pragma once
#include <cuda_runtime.h>

#include <sstream>
#include <stdexcept>

namespace rnabert {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void cuda_check(cudaError_t status, const char* what, const char* file, int line) {
  if (status != cudaSuccess) {
    std::ostringstream msg;
    msg << "CUDA error at " << file << ":" << line << " in " << what << ": " << cudaGetErrorName(status) << " ("
        << cudaGetErrorString(status) << ")";
    throw CudaError(msg.str());
  }
}

}  // namespace rnabert

#define RNABERT_CUDA_CHECK(call) ::rnabert::cuda_check((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch-configuration errors show up here, asynchronous ones at the next sync.
#define RNABERT_CUDA_CHECK_LAUNCH() ::rnabert::cuda_check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
