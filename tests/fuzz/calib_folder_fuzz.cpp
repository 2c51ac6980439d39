// Fuzz target: a calibration folder (`nnc quantize --calib DIR`) -> the folder reader, which
// picks files by extension and reads each as .npy, TensorProto or image, per batch or per
// folder of named inputs, and checks it against the model's input.
//
// The input's first byte chooses a folder layout, the rest is the file content (split in two
// for the two-file layout). The folder lives under a temporary directory made once per process
// and emptied after each run.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/ir_text.h"
#include "models/input_files.h"
#include "tests/fuzz/fuzz_target.h"

namespace fs = std::filesystem;

namespace {

fs::path g_dir;
nnc::Graph* g_model = nullptr;

void write_file(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  std::string dir = (fs::temp_directory_path() / "nnc-calib-fuzz-XXXXXX").string();
  if (!mkdtemp(dir.data())) std::abort();
  g_dir = dir;
  g_model = new nnc::Graph(nnc::parse_ir(
      "graph calib opset=17\n"
      "input %x f32[1,3,8,8]\n"
      "%y f32[1,3,8,8] = Relu %x\n"
      "return %y\n"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view content = nnc::fuzz::as_bytes(data + 1, size - 1);
  const fs::path calib = g_dir / "calib";
  switch (data[0] % 6) {
    case 0: write_file(calib / "batch.npy", content); break;
    case 1: write_file(calib / "batch.png", content); break;
    case 2: write_file(calib / "batch.pb", content); break;
    case 3: write_file(calib / "set0" / "x.npy", content); break;
    case 4: write_file(calib / "set0" / "x.pb", content); break;
    default:
      write_file(calib / "a.npy", content.substr(0, content.size() / 2));
      write_file(calib / "b.jpg", content.substr(content.size() / 2));
      break;
  }
  nnc::fuzz::expect_clean_refusal([&] { (void)nnc::read_calibration_folder(calib, *g_model, {}, 4); });
  std::error_code ec;
  fs::remove_all(calib, ec);
  return 0;
}
