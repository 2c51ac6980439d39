#!/usr/bin/env bash
# Lists the largest source files: house style keeps a file under 400 lines and asks at 800
# what its second job is.
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.h' '*.py' '*.sh' | xargs wc -l | sort -rn | head -"${1:-20}"
