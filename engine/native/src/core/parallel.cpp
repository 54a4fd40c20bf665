#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace splatcast {

namespace {

using ChunkFn = std::function<void(int64_t, int64_t)>;

thread_local bool in_chunk = false;  // nested parallel_for calls run inline instead of waiting on the pool

void run_inline(int64_t n, int64_t grain, const ChunkFn& fn) {
  for (int64_t begin = 0; begin < n; begin += grain) fn(begin, std::min(n, begin + grain));
}

struct Job {
  const ChunkFn* fn;
  int64_t n, grain;
  std::atomic<int64_t> next_chunk{0};
  std::mutex error_mutex;
  std::exception_ptr error;

  // Runs chunks until none are left; after an exception no further chunks start.
  void drain() {
    in_chunk = true;
    for (;;) {
      const int64_t begin = next_chunk.fetch_add(1) * grain;
      if (begin >= n) break;
      try {
        (*fn)(begin, std::min(n, begin + grain));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next_chunk.store(n);
      }
    }
    in_chunk = false;
  }
};

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void run(int64_t n, int64_t grain, const ChunkFn& fn) {
    // One job at a time; a second caller thread (rare: the addon is driven from one JS thread) runs inline.
    std::unique_lock<std::mutex> running(run_mutex_, std::try_to_lock);
    if (!running.owns_lock()) return run_inline(n, grain, fn);
    Job job;
    job.fn = &fn;
    job.n = n;
    job.grain = grain;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &job;
      ++generation_;
    }
    wake_.notify_all();
    job.drain();
    {
      // Workers that have not picked the job up by now never will; wait for those that did.
      std::unique_lock<std::mutex> lock(mutex_);
      job_ = nullptr;
      done_.wait(lock, [this] { return active_ == 0; });
    }
    if (job.error) std::rethrow_exception(job.error);
  }

 private:
  void work() {
    uint64_t seen = 0;
    for (;;) {
      Job* job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        job = job_;
        if (!job) continue;
        ++active_;
      }
      job->drain();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  Job* job_ = nullptr;
  int active_ = 0;
};

int configured_threads() {
  if (const char* env = std::getenv("SPLATCAST_CPU_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || n < 1 || n > 1024)
      throw std::invalid_argument(std::string("SPLATCAST_CPU_THREADS must be an integer 1..1024, got \"") + env +
                                  "\"");
    return static_cast<int>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  // Never destroyed: workers block on the pool's condition variable until the process ends, and destroying it
  // under them at exit would be undefined.
  static Pool* instance = new Pool(configured_threads());
  return *instance;
}

}  // namespace

void parallel_for(int64_t n, int64_t grain, const ChunkFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n <= grain || in_chunk || pool().threads() == 1) return run_inline(n, grain, fn);
  pool().run(n, grain, fn);
}

}  // namespace splatcast
