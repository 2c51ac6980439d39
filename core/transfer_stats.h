// core/transfer_stats.h — what a run copied between host memory and a GPU's (filled by the CUDA
// backend's device residency, reported by nnc bench and Session::last_transfers).
#pragma once

#include <cstdint>

namespace nnc {

struct TransferStats {
  int64_t uploads = 0, upload_bytes = 0, downloads = 0, download_bytes = 0;
  double upload_ms = 0, download_ms = 0;  // host wall time spent in the copies
  bool graph_replay = false;              // the run replayed a recorded CUDA graph
};

}  // namespace nnc
