// Compiled plans (core/plan_file.h): a plan runs exactly as the model it was compiled from, and
// every damaged plan is refused with a clear BadInput error, never a crash (this file also runs
// under the sanitizers).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/api.h"
#include "core/compare.h"
#include "core/ir_text.h"
#include "core/npy.h"
#include "core/plan_file.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kGolden = fs::path(NNC_SOURCE_DIR) / "tests/data/golden";

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("nnc_plan_test_{}", ::getpid());
  fs::create_directories(dir);
  return dir / name;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// The plan's payload sections, for edits that keep the checksum valid (so the reader's deeper
// checks are what refuses them).
struct Section {
  std::string tag, body;
};

std::vector<Section> sections_of(const std::string& plan) {
  std::vector<Section> out;
  size_t at = 32;
  while (at < plan.size()) {
    uint64_t length = 0;
    std::memcpy(&length, plan.data() + at + 4, 8);
    out.push_back({plan.substr(at, 4), plan.substr(at + 12, size_t(length))});
    at += 12 + size_t(length);
  }
  return out;
}

std::string assemble(const std::string& header, const std::vector<Section>& sections) {
  std::string payload;
  for (const Section& s : sections) {
    const uint64_t length = s.body.size();
    payload += s.tag;
    payload.append(reinterpret_cast<const char*>(&length), 8);
    payload += s.body;
  }
  std::string out = header.substr(0, 32);
  const uint64_t size = payload.size();
  const uint32_t checksum = crc32(payload.data(), payload.size());
  std::memcpy(out.data() + 16, &size, 8);
  std::memcpy(out.data() + 24, &checksum, 4);
  return out + payload;
}

std::string with_section(const std::string& plan, const std::string& tag,
                         const std::function<void(std::string&)>& edit) {
  std::vector<Section> sections = sections_of(plan);
  for (Section& s : sections)
    if (s.tag == tag) edit(s.body);
  return assemble(plan, sections);
}

}  // namespace

TEST_CASE("a plan runs exactly as the model it was compiled from, without tuning again") {
  const Model model = load_model(kGolden / "cnn/model.onnx");
  const fs::path path = scratch("cnn.nncplan");
  save_plan(model, path);
  CHECK(is_plan_file(path));
  const Model loaded = load_model(path);
  CHECK(loaded.graph().nodes.size() == model.graph().nodes.size());
  CHECK(loaded.memory_plan().has_value());
  for (size_t n = 0; n < model.graph().nodes.size(); ++n) {
    const NodeKernel* a = model.kernels().empty() ? nullptr : model.kernels()[n];
    const NodeKernel* b = loaded.kernels().empty() ? nullptr : loaded.kernels()[n];
    CHECK((a ? a->tactic() : "reference") == (b ? b->tactic() : "reference"));
  }
  const Tensor input = read_npy(kGolden / "cnn/input_0.npy");
  const auto want = Session(model).run({{"input", input}});
  const auto got = Session(loaded).run({{"input", input}});
  for (const auto& [name, tensor] : want) CHECK(compare(got.at(name), tensor).max_abs == 0);
  // And against PyTorch, as every golden.
  CHECK(compare(got.at(model.output_names()[0]), read_npy(kGolden / "cnn/output_0.npy")).rel_l2 < 1e-4);
}

TEST_CASE("damaged plans are refused with a clear error naming the file") {
  const fs::path good = scratch("good.nncplan");
  save_plan(load_model(kGolden / "cnn/model.onnx"), good);
  const std::string plan = read_file(good);
  REQUIRE(plan.size() > 200);

  struct Damage {
    const char* what;
    std::string bytes;
    const char* message;  // a part of the expected error
  };
  std::string wrong_magic = plan, wrong_version = plan, flipped = plan, huge = plan;
  wrong_magic[0] = 'X';
  wrong_version[8] = 2;
  flipped[plan.size() / 2] = char(flipped[plan.size() / 2] ^ 0x5a);
  const uint64_t too_big = uint64_t(1) << 60;
  std::memcpy(huge.data() + 16, &too_big, 8);
  const Damage cases[] = {
      {"empty file", "", ""},  // not a plan by its magic: the ONNX importer refuses it
      {"cut inside the header", plan.substr(0, 20), "shorter than the 32-byte header"},
      {"cut inside the payload", plan.substr(0, plan.size() / 2), "truncated"},
      {"one byte appended", plan + "x", "appended"},
      {"wrong magic", wrong_magic, ""},  // likewise
      {"format version 2", wrong_version, "format version 2"},
      {"a flipped payload byte", flipped, "checksum"},
      {"a payload size of 2^60", huge, "payload bytes"},
      {"a section length past the end", with_section(plan, "TACT", [](std::string& b) { b.resize(b.size() - 3); }),
       "runs past the end"},
      {"a weight count in the billions",
       with_section(plan, "WGHT", [](std::string& b) { const uint32_t n = 0xfffffff0u; std::memcpy(b.data(), &n, 4); }),
       "cannot fit"},
      {"an unknown tactic",
       with_section(plan, "TACT",
                    [](std::string& b) {
                      const size_t at = b.find("conv.");
                      REQUIRE(at != std::string::npos);
                      b.replace(at, 5, "zzzz.");
                    }),
       "does not have"},
      {"a tactic count that is not the node count",
       with_section(plan, "TACT", [](std::string& b) { const uint32_t n = 1; std::memcpy(b.data(), &n, 4); }),
       "tactics for"},
      {"IR text that does not parse", with_section(plan, "IRTX", [](std::string& b) { b.insert(0, "%%% "); }), ""},
      {"a missing section",
       [&] {
         std::vector<Section> sections = sections_of(plan);
         sections.pop_back();
         return assemble(plan, sections);
       }(),
       "no TACT section"},
  };
  for (const Damage& d : cases) {
    CAPTURE(d.what);
    const fs::path path = scratch("damaged.nncplan");
    write_file(path, d.bytes);
    try {
      (void)load_model(path);
      FAIL("a damaged plan loaded: " << d.what);
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(e.kind() == ErrorKind::BadInput);
      CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
      CHECK(std::string(e.what()).find(d.message) != std::string::npos);
    }
  }
  fs::remove_all(good.parent_path());
}
