// importers/onnx/onnx_importer.h — ONNX ModelProto -> nnc Graph.
//
// Opsets 11..18 (older ones where the op's legacy mapping knows them), IR versions 3..9.
// The result is verified, its types inferred, and its shape subgraphs folded once input shapes
// are known. Every problem is an nnc::Error naming the file and the node; all unsupported ops of
// a model are reported together.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "core/graph.h"

namespace nnc {

struct ImportOptions {
  // Fixes symbolic (or overrides) input dims: {"input": {1,3,320,320}} (`--input-shape`).
  std::map<std::string, Dims> input_shapes;
  // Fold constants and shape subgraphs after import (off: the graph exactly as written).
  bool fold_constants = true;
};

Graph import_onnx_file(const std::filesystem::path& path, const ImportOptions& options = {});
// `model_dir` resolves external data (empty: external data is refused).
Graph import_onnx_bytes(const std::string& bytes, const std::filesystem::path& model_dir,
                        const ImportOptions& options = {});

// The model's metadata_props (key -> value): how exporters describe a model's conventions
// (nnc's detector exports record their classes and coordinate ranges there).
std::map<std::string, std::string> read_onnx_metadata(const std::filesystem::path& path);

// True if the bytes look like a serialized ONNX model (used to tell models, plans and IR text
// apart with a helpful message).
bool looks_like_onnx(const std::string& head);

}  // namespace nnc
