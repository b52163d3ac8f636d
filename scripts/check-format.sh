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

# One clang-format run over all files (one process per file costs seconds); it names each
# drifting file in its "FILE:LINE:COL: error: code should be clang-formatted" messages.
if out=$(printf '%s\0' "${files[@]}" | xargs -0 clang-format --dry-run --Werror 2>&1); then
    echo "check-format.sh: ${#files[@]} files match .clang-format"
    exit 0
fi
mapfile -t drift < <(sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' <<<"$out" | sort -u)
if [ ${#drift[@]} -eq 0 ]; then
    printf '%s\n' "$out" >&2
    echo "check-format.sh: clang-format failed" >&2
    exit 1
fi
echo "check-format.sh: ${#drift[@]} of ${#files[@]} files differ from .clang-format:" >&2
printf '  %s\n' "${drift[@]#./}" >&2
exit 1
