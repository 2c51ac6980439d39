// tools/cli/commands.h — one function per `nnc` subcommand; each returns the exit code
// (0 ok; errors are thrown as nnc::Error and mapped to 1 or 2 by main).
#pragma once

#include <string>
#include <vector>

#include "tools/cli/args.h"

namespace nnc::cli {

int cmd_inspect(const std::vector<std::string>& argv);
int cmd_run(const std::vector<std::string>& argv);
int cmd_compile(const std::vector<std::string>& argv);
int cmd_conformance(const std::vector<std::string>& argv);

}  // namespace nnc::cli
