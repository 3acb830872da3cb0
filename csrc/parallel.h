// Threads over independent tasks: a dynamic queue (one atomic counter) drained by std::thread workers.
// std::thread rather than OpenMP: torch ships its own libgomp, and two OpenMP runtimes in one process
// fight over cores.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace rnabert {

// Calls fn(task, worker) for task = 0..n-1, tasks taken in order by `workers` threads (the caller is
// worker 0). The first exception thrown by any task stops the queue and is rethrown here.
template <class Fn>
void parallel_tasks(int64_t n, int workers, Fn&& fn) {
  if (n <= 0) return;
  if (workers > n) workers = (int)n;
  if (workers <= 1) {
    for (int64_t t = 0; t < n; ++t) fn(t, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto drain = [&](int worker) {
    try {
      for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(t, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (int w = 1; w < workers; ++w) pool.emplace_back(drain, w);
  drain(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace rnabert
