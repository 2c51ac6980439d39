// core/plan_file.cpp — see plan_file.h.
#include "core/plan_file.h"

#include <cstring>
#include <algorithm>
#include <fstream>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/tactic.h"
#include "backends/cuda/tactics.h"
#include "backends/cpu/thread_pool.h"
#include "core/ir_text.h"
#include "core/limits.h"
#include "core/sha256.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/shape_inference.h"
#include "passes/plan_memory.h"

namespace nnc {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'N', 'N', 'C', 'P', 'L', 'A', 'N', '\0'};
constexpr size_t kHeaderBytes = 32;

constexpr uint32_t tag(const char (&name)[5]) {
  return uint32_t(uint8_t(name[0])) | uint32_t(uint8_t(name[1])) << 8 | uint32_t(uint8_t(name[2])) << 16 |
         uint32_t(uint8_t(name[3])) << 24;
}

// ---- writing --------------------------------------------------------------------------------

class Writer {
 public:
  template <typename T>
  void put(T v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
  }
  void put_bytes(const void* data, size_t size) {
    const auto* p = static_cast<const char*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  void put_string(const std::string& s) {
    put(uint32_t(s.size()));
    put_bytes(s.data(), s.size());
  }
  void section(uint32_t section_tag, const Writer& body) {
    put(section_tag);
    put(uint64_t(body.bytes_.size()));
    put_bytes(body.bytes_.data(), body.bytes_.size());
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Refuses what a plan cannot hold yet, naming the node.
void check_plannable(const Graph& g) {
  for (const Node& n : g.nodes)
    for (const Attribute& a : n.attrs) {
      if (std::holds_alternative<std::shared_ptr<Graph>>(a.value))
        fail(ErrorKind::Unsupported, "{}: plans cannot hold If/Loop subgraphs yet (attribute '{}')", describe(n), a.name);
      if (const auto* t = std::get_if<Tensor>(&a.value); t && t->numel() > 8)
        fail(ErrorKind::Unsupported, "{}: plans cannot hold tensor attributes over 8 elements yet ('{}')", describe(n),
             a.name);
    }
}

// ---- reading --------------------------------------------------------------------------------

// A cursor over the payload: every read checks the bytes remaining, so no count or length from
// the file is trusted before it is compared with the file's real size.
class Reader {
 public:
  Reader(std::string_view bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {}

  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string_view get_bytes(uint64_t size, const char* what) {
    need(size, what);
    const std::string_view out = bytes_.substr(at_, size_t(size));
    at_ += size_t(size);
    return out;
  }
  std::string get_string(const char* what) { return std::string(get_bytes(get<uint32_t>(what), what)); }
  bool done() const { return at_ == bytes_.size(); }
  size_t remaining() const { return bytes_.size() - at_; }
  [[noreturn]] void corrupt(const std::string& what) const {
    bad_input("{}: corrupt plan: {} (at byte {} of the payload)", file_, what, at_);
  }

 private:
  void need(uint64_t size, const char* what) const {
    if (size > bytes_.size() - at_) corrupt(fmt::format("{} runs past the end", what));
  }
  std::string_view bytes_;
  std::string file_;
  size_t at_ = 0;
};

std::map<std::string, std::string> parse_meta(std::string_view text) {
  std::map<std::string, std::string> meta;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    const size_t eq = line.find('=');
    if (eq != std::string_view::npos) meta[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    start = end + 1;
  }
  return meta;
}

// One line of META holds one key=value: backslashes, line breaks (and '=' in keys) escaped.
std::string escape_meta(const std::string& text, bool key) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '=' && key) out += "\\e";
    else out += c;
  }
  return out;
}

std::string unescape_meta(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    out += c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'e' ? '=' : c;
  }
  return out;
}

// metadata_props of the ONNX file a model came from; none for IR text or a missing file.
std::map<std::string, std::string> source_metadata(const std::string& source) {
  std::error_code ec;
  if (source.empty() || !fs::is_regular_file(source, ec) || is_plan_file(source)) return {};
  try {
    return read_onnx_metadata(source);
  } catch (const Error&) {
    return {};  // not ONNX (an IR text file): no metadata to carry
  }
}

const cpu::Tactic* find_tactic(OpKind op, std::string_view name) {
  for (const cpu::Tactic& t : cpu::registered_tactics())
    if (t.op == op && t.name == name) return &t;
  return nullptr;
}

}  // namespace

bool is_plan_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[sizeof(kMagic)] = {};
  in.read(head, sizeof(head));
  return in.gcount() == std::streamsize(sizeof(head)) && std::memcmp(head, kMagic, sizeof(kMagic)) == 0;
}

std::string serialize_plan(const Model& model) {
  const Graph& g = model.graph();
  check_plannable(g);
  const cpu::CpuInfo& cpu = cpu::cpu_info();
  Writer meta, ir, weights, tactics;
  // The source's fingerprint: `sha256sum` of the file it was compiled from, when that exists.
  std::error_code ec;
  const std::string sha = !model.source().empty() && fs::is_regular_file(model.source(), ec) ? sha256_file(model.source()) : "";
  // The GPU the plan's CUDA tactics were tuned on (empty when every node runs on the CPU).
  std::string gpu;
  for (const NodeKernel* k : model.kernels())
    if (k && k->tactic().starts_with("cuda.") && cuda::tactic_settings().device) gpu = cuda::tactic_settings().device->description();
  std::string meta_text = fmt::format(
      "nnc={}\nsource={}\nsource_sha256={}\noptions={}\ncpu={}\nisa={}\nthreads={}\nmemory_plan={}\ngpu={}\n",
      NNC_VERSION, model.source(), sha, model.build_options(), cpu.model, cpu::isa_name(cpu.isa), cpu::thread_count(),
      model.memory_plan() ? 1 : 0, gpu);
  // The source model's own metadata (ONNX metadata_props: a detector's classes and ranges), so a
  // plan serves wherever its model did: `metadata.<key>=<value>`, escaped, in key order.
  for (const auto& [key, value] : source_metadata(model.source()))
    meta_text += "metadata." + escape_meta(key, true) + "=" + escape_meta(value, false) + "\n";
  meta.put_bytes(meta_text.data(), meta_text.size());
  const std::string text = print_ir(g);
  ir.put_bytes(text.data(), text.size());

  const std::vector<ValueId> consts = g.consts();
  weights.put(uint32_t(consts.size()));
  for (ValueId id : consts) {
    const Value& v = g.value(id);
    if (!v.data) fail(ErrorKind::Unsupported, "constant '@{}' has no data (IR text summarised it); cannot plan it", v.name);
    weights.put_string(v.name);
    weights.put_string(std::string(dtype_name(v.data->dtype())));
    weights.put(uint32_t(v.data->rank()));
    for (int64_t d : v.data->dims()) weights.put(d);
    weights.put(uint64_t(v.data->nbytes()));
    weights.put_bytes(v.data->bytes(), v.data->nbytes());
  }
  const auto kernels = model.kernels();
  tactics.put(uint32_t(g.nodes.size()));
  for (size_t n = 0; n < g.nodes.size(); ++n)
    tactics.put_string(!kernels.empty() && kernels[n] ? std::string(kernels[n]->tactic()) : "reference");

  Writer payload;
  payload.section(tag("META"), meta);
  payload.section(tag("IRTX"), ir);
  payload.section(tag("WGHT"), weights);
  payload.section(tag("TACT"), tactics);

  Writer header;
  header.put_bytes(kMagic, sizeof(kMagic));
  header.put(kPlanFormatVersion);
  header.put(uint32_t(0));
  header.put(uint64_t(payload.bytes().size()));
  header.put(crc32(payload.bytes().data(), payload.bytes().size()));
  header.put(uint32_t(0));
  std::string bytes(header.bytes().data(), header.bytes().size());
  bytes.append(payload.bytes().data(), payload.bytes().size());
  return bytes;
}

void save_plan(const Model& model, const fs::path& path) {
  const std::string bytes = serialize_plan(model);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) fail(ErrorKind::Runtime, "{}: cannot write the plan", path.string());
}

uint32_t plan_checksum(std::string_view plan_bytes) {
  check_internal(plan_bytes.size() >= kHeaderBytes, "plan_checksum: not a plan");
  uint32_t checksum;
  std::memcpy(&checksum, plan_bytes.data() + 24, sizeof checksum);  // after magic, version, flags, size
  return checksum;
}

namespace {

struct PlanHeader {
  uint64_t payload_bytes = 0;
  uint32_t checksum = 0;
};

// The 32-byte header of a plan file of `file_size` bytes: magic, version, and a payload size
// that matches the file. BadInput naming `file` otherwise.
PlanHeader check_header(std::string_view header, uint64_t file_size, const std::string& file) {
  if (file_size < kHeaderBytes) bad_input("{}: corrupt plan: {} bytes is shorter than the 32-byte header", file, file_size);
  Reader h(header.substr(0, kHeaderBytes), file);
  if (h.get_bytes(sizeof(kMagic), "magic") != std::string_view(kMagic, sizeof(kMagic)))
    bad_input("{}: not an nnc plan (wrong magic){}", file,
              header[0] == 0x08 ? "; it looks like an ONNX model: give it to nnc compile" : "");
  const uint32_t version = h.get<uint32_t>("version");
  if (version != kPlanFormatVersion)
    bad_input("{}: plan format version {} but this nnc reads version {}; compile the model again", file, version,
              kPlanFormatVersion);
  (void)h.get<uint32_t>("flags");
  PlanHeader out;
  out.payload_bytes = h.get<uint64_t>("payload size");
  out.checksum = h.get<uint32_t>("checksum");
  if (out.payload_bytes != file_size - kHeaderBytes)
    bad_input("{}: corrupt plan: the header promises {} payload bytes but the file holds {} (truncated or appended to)",
              file, out.payload_bytes, file_size - kHeaderBytes);
  return out;
}

void check_payload(std::string_view payload, uint32_t checksum, const std::string& file) {
  if (crc32(payload.data(), payload.size()) != checksum)
    bad_input("{}: corrupt plan: checksum mismatch (the file was changed after nnc wrote it)", file);
}

// The payload of a plan file whose header, size and checksum are right; BadInput otherwise. The
// header is checked before the rest is read, so a large file that is not a plan costs nothing.
std::string read_payload(const fs::path& path, uint32_t& checksum) {
  const std::string file = path.string();
  std::error_code ec;
  if (fs::is_directory(path, ec)) bad_input("{}: is a directory, not a plan", file);
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) bad_input("{}: cannot read: {}", file, ec.message());
  std::ifstream in(path, std::ios::binary);
  std::string header(kHeaderBytes, '\0');
  in.read(header.data(), std::streamsize(std::min<uintmax_t>(size, kHeaderBytes)));
  const PlanHeader h = check_header(header, size, file);
  checksum = h.checksum;
  std::string payload(size_t(h.payload_bytes), '\0');
  in.read(payload.data(), std::streamsize(h.payload_bytes));
  if (in.gcount() != std::streamsize(h.payload_bytes)) bad_input("{}: cannot read the plan's payload", file);
  check_payload(payload, checksum, file);
  return payload;
}

// The payload's sections by tag (views into `payload`), every required one present.
std::map<uint32_t, std::string_view> split_sections(std::string_view payload, const std::string& file) {
  Reader r(payload, file);
  std::map<uint32_t, std::string_view> sections;
  while (!r.done()) {
    const uint32_t section_tag = r.get<uint32_t>("section tag");
    const uint64_t length = r.get<uint64_t>("section length");
    sections[section_tag] = r.get_bytes(length, "section");
  }
  const std::pair<const char*, uint32_t> required[] = {
      {"META", tag("META")}, {"IRTX", tag("IRTX")}, {"WGHT", tag("WGHT")}, {"TACT", tag("TACT")}};
  for (const auto& [name, section_tag] : required)
    if (!sections.contains(section_tag)) r.corrupt(fmt::format("no {} section", name));
  return sections;
}

}  // namespace

std::map<std::string, std::string> read_model_metadata(const fs::path& path) {
  if (!is_plan_file(path)) return read_onnx_metadata(path);
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : read_plan_info(path).meta)
    if (key.starts_with("metadata.")) out[unescape_meta(key.substr(9))] = unescape_meta(value);
  return out;
}

PlanInfo read_plan_info(const fs::path& path) {
  PlanInfo info;
  const std::string payload = read_payload(path, info.checksum);
  info.format_version = kPlanFormatVersion;
  info.payload_bytes = payload.size();
  info.meta = parse_meta(split_sections(payload, path.string())[tag("META")]);
  return info;
}

namespace {

Model build_from_payload(const std::string& payload, const std::string& file) {
  std::map<uint32_t, std::string_view> sections = split_sections(payload, file);
  const std::map<std::string, std::string> meta = parse_meta(sections[tag("META")]);

  Graph g = parse_ir(std::string(sections[tag("IRTX")]), file);
  Reader w(sections[tag("WGHT")], file);
  const uint32_t count = w.get<uint32_t>("weight count");
  if (count > w.remaining() / 16) w.corrupt(fmt::format("{} weights cannot fit in the section", count));
  for (uint32_t i = 0; i < count; ++i) {
    const std::string name = w.get_string("weight name");
    const std::optional<DType> dtype = parse_dtype(w.get_string("weight dtype"));
    if (!dtype) w.corrupt(fmt::format("weight '{}' has an unknown dtype", name));
    const uint32_t rank = w.get<uint32_t>("weight rank");
    if (rank > resource_limits().max_rank) check_limit(fmt::format("{}: weight '{}''s rank", file, name), "rank", rank);
    Dims dims;
    for (uint32_t d = 0; d < rank; ++d) {
      const int64_t dim = w.get<int64_t>("weight dims");
      if (dim < 0) w.corrupt(fmt::format("weight '{}' has a negative dimension", name));
      dims.push_back(dim);
    }
    const uint64_t nbytes = w.get<uint64_t>("weight size");
    const std::string_view data = w.get_bytes(nbytes, "weight data");  // checked before allocating
    const ValueId id = g.find(name);
    if (id == kNoValue || g.value(id).kind != ValueKind::Const) w.corrupt(fmt::format("weight '{}' is not a constant of the graph", name));
    uint64_t expected = dtype_size(*dtype);
    for (int64_t d : dims) {
      if (d != 0 && expected > (uint64_t(1) << 62) / uint64_t(d)) w.corrupt(fmt::format("weight '{}' is too large", name));
      expected *= uint64_t(d);
    }
    if (expected != nbytes || TensorType{*dtype, Shape(dims)} != g.value(id).type)
      w.corrupt(fmt::format("weight '{}' does not match its declared type {}", name, to_string(g.value(id).type)));
    Tensor t(*dtype, dims);
    std::memcpy(t.bytes(), data.data(), data.size());
    g.value(id).data = std::make_shared<const Tensor>(std::move(t));
  }
  for (ValueId id : g.consts())
    if (!g.value(id).data) bad_input("{}: corrupt plan: constant '@{}' has no weights", file, g.value(id).name);
  try {
    infer_types(g);
    verify(g, /*from_file=*/true);
  } catch (const Error& e) {
    throw with_context(e, file + ": ");
  }

  // A plan with CUDA tactics runs only on the GPU it was tuned for.
  const auto meta_value = [&](const char* key) { return meta.contains(key) ? meta.at(key) : std::string(); };
  if (const std::string gpu = meta_value("gpu"); !gpu.empty()) {
    std::string why_not;
    // (A plan made with --device emulator runs on the emulator, which every nnc has.)
    std::shared_ptr<cuda::Device> here =
        gpu == cuda::emulated_device()->description() ? cuda::emulated_device() : cuda::native_device(&why_not);
    if (!here)
      bad_input("{}: gpu: the plan runs nodes on the GPU '{}', and this machine has none ({}); compile the model "
                "again here", file, gpu, why_not);
    if (here->description() != gpu)
      bad_input("{}: gpu: the plan was tuned for '{}', this machine's GPU is '{}'; compile the model again here", file,
                gpu, here->description());
    cuda::use_device({here, true});  // the plan chose its tactics (f16 ones included) when it was compiled
  }
  Reader t(sections[tag("TACT")], file);
  const uint32_t nodes = t.get<uint32_t>("tactic count");
  if (nodes != g.nodes.size()) t.corrupt(fmt::format("{} tactics for {} nodes", nodes, g.nodes.size()));
  cpu::TuningResult tuning;
  tuning.kernels.resize(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const std::string name = t.get_string("tactic name");
    if (name == "reference") continue;
    const Node& node = g.nodes[n];
    const cpu::Tactic* tactic = find_tactic(node.op, name);
    if (!tactic) bad_input("{}: {} uses tactic '{}', which this nnc does not have; compile the model again", file, describe(node), name);
    if (const std::string why = tactic->rejects(g, node); !why.empty())
      bad_input("{}: {}: tactic '{}' cannot run it ({}); compile the model again", file, describe(node), name, why);
    tuning.kernels[n] = tactic->prepare(g, node);
    tuning.nodes.push_back({.node = n, .chosen = name, .candidates = {}, .from_cache = true});
  }
  const cpu::CpuInfo& cpu = cpu::cpu_info();
  const auto value = [&](const char* key) { return meta.contains(key) ? meta.at(key) : std::string("?"); };
  if (value("cpu") != cpu.model || value("isa") != cpu::isa_name(cpu.isa))
    tuning.warnings.push_back(fmt::format("{}: tuned on '{}' ({}), running on '{}' ({}): the tactics are correct here "
                                          "but may not be the fastest; compile again on this machine",
                                          file, value("cpu"), value("isa"), cpu.model, cpu::isa_name(cpu.isa)));
  std::optional<MemoryPlan> memory;
  if (value("memory_plan") == "1") memory = plan_memory(g);
  return Model(std::move(g), file, {}, std::move(memory), std::move(tuning), value("options"));
}

}  // namespace

Model load_plan(const fs::path& path) {
  uint32_t checksum = 0;
  const std::string payload = read_payload(path, checksum);
  return build_from_payload(payload, path.string());
}

Model load_plan_bytes(std::string_view bytes, const std::string& name) {
  const PlanHeader h = check_header(bytes, bytes.size(), name);
  const std::string payload(bytes.substr(kHeaderBytes));
  check_payload(payload, h.checksum, name);
  return build_from_payload(payload, name);
}

}  // namespace nnc
