// What the CUDA runtime sees on this machine: devices, versions. No torch involved.
#pragma once
#include <string>
#include <vector>

namespace rnabert {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0;
  int minor = 0;
  int multiprocessors = 0;
  size_t total_memory = 0;
};

// Number of usable devices; 0 (never an error) when there is no driver or no GPU.
int cuda_device_count();
std::vector<CudaDeviceInfo> cuda_devices();
int cuda_runtime_version();
int cuda_driver_version();  // 0 when no driver is installed

// Runs a tiny kernel on `device` and checks its result: proves the compiled code runs on this GPU.
bool cuda_self_test(int device);

}  // namespace rnabert
