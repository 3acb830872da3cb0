#include "cuda_check.h"
#include "device.h"

namespace rnabert {

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error so later calls start clean
    return 0;
  }
  return n;
}

std::vector<CudaDeviceInfo> cuda_devices() {
  std::vector<CudaDeviceInfo> out;
  int n = cuda_device_count();
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    RNABERT_CUDA_CHECK(cudaGetDeviceProperties(&p, i));
    CudaDeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.major = p.major;
    d.minor = p.minor;
    d.multiprocessors = p.multiProcessorCount;
    d.total_memory = p.totalGlobalMem;
    out.push_back(d);
  }
  return out;
}

int cuda_runtime_version() {
  int v = 0;
  RNABERT_CUDA_CHECK(cudaRuntimeGetVersion(&v));
  return v;
}

int cuda_driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) return 0;
  return v;
}

__global__ void iota_squares(int* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = i * i;
}

bool cuda_self_test(int device) {
  constexpr int n = 1000;
  RNABERT_CUDA_CHECK(cudaSetDevice(device));
  int* d_out = nullptr;
  RNABERT_CUDA_CHECK(cudaMalloc(&d_out, n * sizeof(int)));
  int host[n];
  for (int i = 0; i < n; ++i) host[i] = -1;  // poison: an unwritten element fails the check
  bool ok = true;
  try {
    RNABERT_CUDA_CHECK(cudaMemcpy(d_out, host, sizeof(host), cudaMemcpyHostToDevice));
    iota_squares<<<(n + 255) / 256, 256>>>(d_out, n);
    RNABERT_CUDA_CHECK_LAUNCH();
    RNABERT_CUDA_CHECK(cudaMemcpy(host, d_out, sizeof(host), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) ok = ok && host[i] == i * i;
  } catch (...) {
    cudaFree(d_out);
    throw;
  }
  RNABERT_CUDA_CHECK(cudaFree(d_out));
  return ok;
}

}  // namespace rnabert
