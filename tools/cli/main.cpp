// tools/cli/main.cpp — the `nnc` command: dispatches to a subcommand and turns errors into
// messages and exit codes. This is the only place that sets exit codes:
//   0 ok, 1 runtime failure (and internal errors, which ask to be reported), 2 bad input or usage.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tools/cli/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"inspect", nnc::cli::cmd_inspect, "inputs, outputs, op histogram, parameters, FLOPs; --ir prints the IR"},
    {"compile", nnc::cli::cmd_compile, "optimise a model, printing what every pass did (--dump-passes, --explain)"},
    {"run", nnc::cli::cmd_run, "run a model on inputs (.npy, .pb, image or random) and summarise outputs"},
    {"compare", nnc::cli::cmd_compare, "where the optimised plan's tensors part from the unoptimised graph's; --bisect-passes"},
    {"quantize", nnc::cli::cmd_quantize, "INT8: calibrate on inputs, quantize, write a plan; --report per-layer error"},
    {"bench", nnc::cli::cmd_bench, "latency median / p90 / min, throughput, peak memory; --profile per node"},
    {"u2net", nnc::cli::cmd_u2net, "salient-object mask and cut-out of an image with a U2Net model"},
    {"deblur", nnc::cli::cmd_deblur, "deblur an image: predictor network, then diffusion refinement"},
    {"petr", nnc::cli::cmd_petr, "3D boxes from a multi-camera scene with PETR (JSON, --bev picture)"},
    {"bevformer", nnc::cli::cmd_bevformer, "3D boxes over a scene sequence with BEVFormer, carrying its BEV state"},
    {"conformance", nnc::cli::cmd_conformance, "run ONNX's backend conformance tests"},
};

void print_help() {
  fmt::print("nnc {} — a small, readable neural-network compiler and runtime\n\n", NNC_VERSION);
  fmt::print("usage: nnc COMMAND [options]   (nnc COMMAND --help for details)\n\ncommands:\n");
  for (const Command& c : kCommands) fmt::print("  {:<13} {}\n", c.name, c.summary);
  fmt::print("\nexit codes: 0 ok, 1 runtime failure, 2 bad input or usage\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    fmt::print("nnc {}\n", NNC_VERSION);
    return 0;
  }
  const std::string name = args[0];
  args.erase(args.begin());
  try {
    for (const Command& c : kCommands)
      if (name == c.name) {
        const int code = c.run(args);
        std::fflush(stdout);
        return code;
      }
    fmt::print(stderr, "nnc: error: unknown command '{}' (see nnc --help)\n", name);
    return 2;
  } catch (const nnc::Error& e) {
    std::fflush(stdout);
    switch (e.kind()) {
      case nnc::ErrorKind::BadInput:
      case nnc::ErrorKind::Unsupported:
        fmt::print(stderr, "nnc: error: {}\n", e.what());
        return 2;
      case nnc::ErrorKind::Runtime:
        fmt::print(stderr, "nnc: error: {}\n", e.what());
        return 1;
      case nnc::ErrorKind::Internal:
        fmt::print(stderr, "nnc: internal error: {}\n", e.what());
        return 1;
    }
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "nnc: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nnc: internal error: {}; please report\n", e.what());
    return 1;
  }
  return 1;
}
