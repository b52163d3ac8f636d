#!/bin/bash
# check-format.sh [FILE...] : checks C sources and headers against .clang-format without
# changing them (clang-format --dry-run --Werror). Without arguments: every .c and .h file of
# the project (git's list in a checkout, otherwise every one outside build directories).
# Lists the files that drift; `clang-format -i FILE` formats one. Exit status 1 if any drift.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

command -v clang-format >/dev/null || { echo "check-format.sh: clang-format not found (apt-get install clang-format)" >&2; exit 2; }
if [ $# -gt 0 ]; then
    files=("$@")
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -d '' files < <(git ls-files -z -- '*.c' '*.h')
else
    mapfile -d '' files < <(find . \( -type d \( -name '.git' -o -name 'build*' -o -name 'obj-*' \) -prune \) \
                                 -o -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
fi

drift=()
for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || drift+=("${f#./}")
done
if [ ${#drift[@]} -gt 0 ]; then
    echo "check-format.sh: ${#drift[@]} of ${#files[@]} files differ from .clang-format:" >&2
    printf '  %s\n' "${drift[@]}" >&2
    exit 1
fi
echo "check-format.sh: ${#files[@]} files match .clang-format"
