// backends/cpu/thread_pool.h — the one pool of worker threads every fast kernel shares.
//
// Static partitioning: parallel_for splits [0, count) into one contiguous chunk per thread, so
// a kernel knows exactly which rows each thread owns (no work stealing, no atomics in kernels).
// The calling thread runs chunk 0. A parallel_for issued from inside another runs serially, so
// nothing ever oversubscribes the cores.
#pragma once

#include <cstdint>
#include <functional>

namespace nnc::cpu {

// Threads the kernels use (default: the cores this process may run on). Values are clamped to
// [1, 256]. Not to be called while a kernel runs.
void set_thread_count(int threads);
int thread_count();

// Calls body(thread, begin, end) once per non-empty chunk of [0, count), chunks ordered by
// thread index. `min_chunk` avoids splitting work too small to be worth a thread.
void parallel_for(int64_t count, const std::function<void(int thread, int64_t begin, int64_t end)>& body,
                  int64_t min_chunk = 1);

}  // namespace nnc::cpu
