#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "backends/cpu/thread_pool.h"

using namespace nnc::cpu;

TEST_CASE("parallel_for covers every index exactly once, in contiguous chunks ordered by thread") {
  for (const int threads : {1, 2, 3, 8}) {
    set_thread_count(threads);
    for (const int64_t count : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{1000}}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
      std::vector<std::pair<int64_t, int64_t>> chunks(size_t(threads), {-1, -1});
      parallel_for(count, [&](int t, int64_t begin, int64_t end) {
        chunks[size_t(t)] = {begin, end};
        for (int64_t i = begin; i < end; ++i) ++hits[size_t(i)];
      });
      for (const auto& h : hits) CHECK(h.load() == 1);
      int64_t next = 0;
      for (const auto& [begin, end] : chunks) {
        if (begin < 0) continue;
        CHECK(begin == next);
        next = end;
      }
      CHECK(next == count);
    }
  }
  set_thread_count(0);
}

TEST_CASE("a parallel_for inside another runs serially on its thread; min_chunk limits the split") {
  set_thread_count(4);
  std::atomic<int> inner_chunks{0};
  parallel_for(4, [&](int, int64_t, int64_t) {
    parallel_for(100, [&](int t, int64_t begin, int64_t end) {
      CHECK(t == 0);
      CHECK(begin == 0);
      CHECK(end == 100);
      ++inner_chunks;
    });
  });
  CHECK(inner_chunks.load() == 4);
  std::atomic<int> chunks{0};
  parallel_for(10, [&](int, int64_t, int64_t) { ++chunks; }, /*min_chunk=*/10);
  CHECK(chunks.load() == 1);
  set_thread_count(0);
}

TEST_CASE("an exception in any chunk reaches the caller, and the pool keeps working") {
  set_thread_count(2);
  CHECK_THROWS_AS(parallel_for(2, [](int t, int64_t, int64_t) {
                    if (t == 1) throw std::runtime_error("chunk 1 failed");
                  }),
                  std::runtime_error);
  std::atomic<int> sum{0};
  parallel_for(2, [&](int, int64_t begin, int64_t end) { sum += int(end - begin); });
  CHECK(sum.load() == 2);
  set_thread_count(0);
}
