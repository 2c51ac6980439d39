// tests/cli/run_cli.h — runs the `nnc` binary under test and captures what it printed.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

namespace nnc::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// `nnc ARGUMENTS`, its output collected in `scratch`/log.txt.
inline CliResult run_cli(const std::string& arguments, const std::filesystem::path& scratch) {
  const std::filesystem::path log = scratch / "log.txt";
  const int status = std::system(fmt::format("{} {} > {} 2>&1", NNC_CLI_PATH, arguments, log.string()).c_str());
  std::ifstream in(log);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
}

// The same, keeping only what the command wrote to stdout (a machine-readable --json answer must
// be all of stdout; notes such as "no GPU" go to stderr).
inline CliResult run_cli_stdout(const std::string& arguments, const std::filesystem::path& scratch) {
  const std::filesystem::path log = scratch / "stdout.txt";
  const int status = std::system(
      fmt::format("{} {} > {} 2> {}", NNC_CLI_PATH, arguments, log.string(), (scratch / "stderr.txt").string()).c_str());
  std::ifstream in(log);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
}

// A fresh, empty directory for one test's files: /tmp/nnc_cli_<name>_<pid>.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("nnc_cli_{}_{}", name, ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace nnc::testing
