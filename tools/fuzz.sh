#!/usr/bin/env bash
# Coverage-guided fuzzing of nnc's parsers (tests/fuzz, README "Fuzzing").
#
#   tools/fuzz.sh [--target NAME] [--minutes N] [--seconds N] [--seed N] [--build-only]
#
# Builds the libFuzzer targets with clang into build-fuzz/ (AddressSanitizer + UBSan, every
# library instrumented), gathers seed corpora from what the repository and Debian already have
# (conformance models, golden models, plans compiled from them, IR dumps, the bundled images),
# and runs each target (default: all, in turn) for N minutes (default 1) on top of its corpus,
# its seeds and the regression corpus. A run over 10 s on one input is a hang; over 2 GiB of
# memory an out-of-memory; both are findings like a crash.
#
# --seed fixes libFuzzer's random seed, so a short run (CI's) explores the same inputs each time.
# A finding is minimised, saved in tests/fuzz/regressions/NAME/ (ctest replays that folder
# forever, sanitized) and the script exits 1 after the remaining targets ran. Statistics
# (executions, coverage) go to build-fuzz/stats/NAME.txt and are summarised at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

targets=(onnx_import onnx_model ir_text plan image npy tensor_proto calib_folder scene)
only="" seconds=60 build_only=0 seed=0
while (($#)); do
  case "$1" in
    --target) only=$2; shift 2 ;;
    --minutes) seconds=$(awk -v m="$2" 'BEGIN { if (m !~ /^[0-9]+([.][0-9]+)?$/) exit 1; printf "%d", m * 60 }') \
                 || { echo "tools/fuzz.sh: --minutes expects a number, got '$2'" >&2; exit 2; }; shift 2 ;;
    --seconds) seconds=$2; [[ "$seconds" =~ ^[0-9]+$ ]] || { echo "tools/fuzz.sh: --seconds expects a whole number, got '$2'" >&2; exit 2; }; shift 2 ;;
    --seed) seed=$2; [[ "$seed" =~ ^[0-9]+$ ]] || { echo "tools/fuzz.sh: --seed expects a whole number, got '$2'" >&2; exit 2; }; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$only" ]; then
  [[ " ${targets[*]} " == *" $only "* ]] || { echo "tools/fuzz.sh: no target '$only' (targets: ${targets[*]})" >&2; exit 2; }
  targets=("$only")
fi

# --- build ---------------------------------------------------------------------------------
# clang 16: clang 14 (Debian's default) lacks the builtin libstdc++ 12's <source_location> needs.
if ! command -v clang++-16 >/dev/null || [ ! -f /usr/lib/llvm-16/lib/clang/16/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
  echo "tools/fuzz.sh: installing clang-16 and its libFuzzer runtime"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends clang-16 libclang-rt-16-dev
fi
out=build-fuzz
CC=clang-16 CXX=clang++-16 BUILD_DIR=$out BUILD_TYPE=RelWithDebInfo \
  TARGETS="$(printf 'fuzz_%s ' "${targets[@]}")" tools/build.sh -DNNC_FUZZ=ON >/dev/null
echo "tools/fuzz.sh: built ${targets[*]} in $out/"
((build_only)) && exit 0

# --- seeds: from what we already have -------------------------------------------------------
# A normal build's nnc (tools/build.sh) compiles plans and prints IR for the seeds; without it
# those two corpora start from their committed seeds only.
nnc_cli=build/nnc
testdata=/usr/share/libonnx-testdata/data
gather_seeds() {  # $1 target, $2 folder
  local name=$1 dir=$2
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir")" ] && return 0  # gathered before
  case "$name" in
    onnx_import|onnx_model)
      find "$testdata" tests/data/golden tests/data/deform_attn tests/data/deform_conv -name '*.onnx' -size -64k 2>/dev/null |
        sort | while read -r f; do
        cp "$f" "$dir/$(echo "$f" | sha1sum | cut -c1-16).onnx"; done ;;
    tensor_proto)
      find "$testdata" -name '*.pb' -size -16k 2>/dev/null | sort | sed -n 1,400p | while read -r f; do
        cp "$f" "$dir/$(echo "$f" | sha1sum | cut -c1-16).pb"; done ;;
    scene)
      find models/samples/scenes -name scene.json 2>/dev/null | sort | while read -r f; do
        cp "$f" "$dir/$(echo "$f" | sha1sum | cut -c1-16).json"; done ;;
    image)
      for f in models/samples/*.png tests/data/calib/*; do
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 100000 ] && cp "$f" "$dir/" || true; done ;;
    ir_text|plan)
      if [ -x "$nnc_cli" ]; then
        find tests/data/golden -name "*.onnx" -size -300k | sort | while read -r f; do
          id=$(echo "$f" | sha1sum | cut -c1-16)
          if [ "$name" = ir_text ]; then "$nnc_cli" inspect "$f" --ir > "$dir/$id.ir" 2>/dev/null || rm -f "$dir/$id.ir"
          else "$nnc_cli" compile "$f" -o "$dir/$id.nncplan" --no-tune >/dev/null 2>&1 || rm -f "$dir/$id.nncplan"; fi
        done
      fi ;;
  esac
}

# --- run ------------------------------------------------------------------------------------
mkdir -p "$out/stats"
findings=()
for name in "${targets[@]}"; do
  corpus=$out/corpus/$name artifacts=$out/artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  gather_seeds "$name" "$out/seeds/$name"
  # onnx_model's byte-level fallback speaks the same protobuf as onnx_import.
  dict=tests/fuzz/dicts/${name/onnx_model/onnx_import}.dict
  [ -f "$dict" ] || dict=""
  echo "tools/fuzz.sh: fuzzing $name for ${seconds}s"
  log=$out/stats/$name.log
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer \
    "$out/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -print_final_stats=1 -seed="$seed" -artifact_prefix="$artifacts/" ${dict:+-dict=$dict} \
    "$corpus" "$out/seeds/$name" "tests/fuzz/seeds/$name" "tests/fuzz/regressions/$name" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  cov=$(grep -oE '(DONE|pulse|NEW|REDUCE) +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1 || true)
  printf '%s seconds=%s execs=%s %s rc=%s\n' "$name" "$seconds" "${execs:-?}" "${cov:-?}" "$rc" | tee "$out/stats/$name.txt"
  if ((rc != 0)); then
    artifact=$(ls -t "$artifacts"/{crash,leak,timeout,oom,slow-unit}-* 2>/dev/null | head -1 || true)
    if [ -z "$artifact" ]; then echo "tools/fuzz.sh: $name failed without an artifact; see $log" >&2; findings+=("$name"); continue; fi
    kind=$(basename "$artifact" | cut -d- -f1)
    minimized=$artifacts/minimized-$(basename "$artifact")
    if [ "$kind" = crash ] || [ "$kind" = leak ]; then
      "$out/tests/fuzz/fuzz_$name" -minimize_crash=1 -runs=20000 -timeout=10 -exact_artifact_path="$minimized" "$artifact" \
        > "$out/stats/$name.minimize.log" 2>&1 || true
    fi
    [ -s "$minimized" ] || minimized=$artifact
    mkdir -p "tests/fuzz/regressions/$name"
    saved=tests/fuzz/regressions/$name/$kind-$(sha1sum "$minimized" | cut -c1-16)
    cp "$minimized" "$saved"
    echo "tools/fuzz.sh: $name: $kind, saved as $saved; reproduce with $out/tests/fuzz/fuzz_$name $saved" >&2
    grep -m1 -A12 -E 'ERROR|fuzz finding|runtime error|Timeout|out-of-memory' "$log" >&2 || true
    findings+=("$name")
  fi
done
echo
echo "target          seconds   executions   coverage"
for name in "${targets[@]}"; do
  awk '{ printf "%-15s %7s %12s   %s %s %s %s\n", $1, substr($2, 9), substr($3, 7), $5, $6, $7, $8 }' "$out/stats/$name.txt"
done
if ((${#findings[@]})); then
  echo "tools/fuzz.sh: findings in: ${findings[*]} (saved under tests/fuzz/regressions/)" >&2
  exit 1
fi
