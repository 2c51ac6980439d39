// backends/cpu/thread_pool.cpp — see thread_pool.h.
//
// Workers sleep on a condition variable and wake on a new "generation" of work; the caller runs
// its own chunk and then waits for the count of unfinished chunks to reach zero. An exception in
// any chunk is captured and rethrown on the calling thread.
#include "backends/cpu/thread_pool.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_info.h"

namespace nnc::cpu {
namespace {

thread_local bool t_inside_parallel_for = false;

class Pool {
 public:
  explicit Pool(int threads) {
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& w : workers_) w.join();
  }
  int size() const { return int(workers_.size()) + 1; }

  void run(int chunks, const std::function<void(int)>& chunk) {
    // Two application threads running sessions at once take turns on the pool.
    std::lock_guard serial(run_mutex_);
    {
      std::lock_guard lock(mutex_);
      chunk_ = &chunk;
      chunks_ = chunks;
      pending_ = chunks - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_one(chunk, 0);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    chunk_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_one(const std::function<void(int)>& chunk, int index) {
    t_inside_parallel_for = true;
    try {
      chunk(index);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_inside_parallel_for = false;
  }

  void work(int index) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* chunk = nullptr;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        if (index >= chunks_) continue;  // this round needs fewer threads
        chunk = chunk_;
      }
      run_one(*chunk, index);
      std::lock_guard lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* chunk_ = nullptr;
  int chunks_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

int g_threads = 0;  // 0: not chosen yet (the core count)
std::unique_ptr<Pool> g_pool;
std::mutex g_pool_mutex;

Pool& pool() {
  std::lock_guard lock(g_pool_mutex);
  const int wanted = thread_count();
  if (!g_pool || g_pool->size() != wanted) {
    g_pool.reset();
    g_pool = std::make_unique<Pool>(wanted);
  }
  return *g_pool;
}

}  // namespace

void set_thread_count(int threads) { g_threads = std::clamp(threads, 1, 256); }

int thread_count() { return g_threads > 0 ? g_threads : std::min(cpu_info().cores, 256); }

void parallel_for(int64_t count, const std::function<void(int, int64_t, int64_t)>& body, int64_t min_chunk) {
  if (count <= 0) return;
  const int64_t most = std::max<int64_t>(1, count / std::max<int64_t>(1, min_chunk));
  const int chunks = int(std::min<int64_t>(most, t_inside_parallel_for ? 1 : thread_count()));
  if (chunks == 1) {
    body(0, 0, count);
    return;
  }
  const std::function<void(int)> chunk = [&](int t) {
    const int64_t begin = count * t / chunks, end = count * (t + 1) / chunks;
    if (begin < end) body(t, begin, end);
  };
  pool().run(chunks, chunk);
}

}  // namespace nnc::cpu
