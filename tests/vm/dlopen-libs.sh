#!/bin/bash
# Prints the host paths of the libraries termguardd loads with dlopen (agent/mounts.c,
# agent/pcsc.c), so the VM image can carry them: ldd does not see them.
set -euo pipefail
for soname in libmount.so.1 libpcsclite.so.1; do
    path=$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64/ && !found { print $NF; found = 1 }')
    [ -n "$path" ] || { echo "dlopen-libs: $soname not found (apt-get install libmount1 libpcsclite1)" >&2; exit 1; }
    echo "$path"
done
