#include "tools/cli/commands.h"
namespace nnc::cli {
int cmd_inspect(const std::vector<std::string>&) { usage_error("not yet"); }
int cmd_run(const std::vector<std::string>&) { usage_error("not yet"); }
}
