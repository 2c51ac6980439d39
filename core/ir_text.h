// core/ir_text.h — the IR's text form: printed for people, parsed back for tests.
//
//   graph conv_relu opset=17
//   input  %x      f32[1,8,32,32]
//   const  @w      f32[16,8,3,3]  blob:9c41e2d0 [-0.52, 0.49]
//   const  @b      f32[2]         [0.5, -1.0]
//
//   %conv  f32[1,16,32,32]  = Conv  %x, @w  kernel_shape=[3,3] pads=[1,1,1,1]
//   %y     f32[1,16,32,32]  = Relu  %conv                                     # from relu_3
//   return %y
//
// `%` names activations, `@` constants; `_` is an omitted optional operand. The type comes
// before the op so shapes form a column. Attributes equal to their default are not stored (the
// importer drops them), so not printed. Data is never dumped: eight or fewer elements print as a
// literal, more as `blob:<crc32> [min, max]`. Hand-written text may also say `random(seed=3)` or
// `fill(0.5)`; such text prints back as written. A trailing `# from a, b` lists the node's
// source ONNX nodes (omitted when it is just the node's own name). Subgraph attributes print as
// `then_branch=<graph>` followed by an indented `{ ... }` block per subgraph, in order.
//
// print_ir(parse_ir(t)) == t for every text print_ir produces.
#pragma once

#include <string>

#include "core/graph.h"

namespace nnc {

std::string print_ir(const Graph& graph);
// Parses IR text. Errors are BadInput with "line L: ..." (and the source name if given).
Graph parse_ir(const std::string& text, const std::string& source_name = "<ir>");

// The graph as Graphviz dot (nodes as boxes, activations as labelled edges, constants counted
// in the node label rather than drawn). `dot -Tsvg x.dot > x.svg` renders it.
std::string print_dot(const Graph& graph);

// An attribute's value as the IR text writes it (`[3, 3]`, `"Relu"`, `0.5`, tensors summarised).
std::string attribute_text(const AttrValue& value);

// CRC-32 (IEEE) of a byte range: the stable fingerprint blob summaries print.
uint32_t crc32(const void* data, size_t size);
// True if `name` can be printed without quotes after % or @.
bool is_bare_name(std::string_view name);
// An ONNX node name as an IR value name: "/stage1/conv/Conv" -> "stage1.conv.Conv".
std::string sanitize_name(std::string_view onnx_name);

}  // namespace nnc
