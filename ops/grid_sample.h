// ops/grid_sample.h — what GridSample's reference kernel and its fast tactic
// (backends/cpu/grid_sample_tactic.cpp) share.
#pragma once

namespace nnc {

// Mirrors v into [low, high], repeatedly, as PyTorch's reflect_coordinates (padding_mode
// reflection).
double reflect_coordinate(double v, double low, double high);

}  // namespace nnc
