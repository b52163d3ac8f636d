#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The tests' alert hook: what termguard-central watch gives on stdin, as one line, to the FIFO
named by the first argument."""
import sys

data = sys.stdin.read()
with open(sys.argv[1], "w") as f:
    f.write(data.strip().replace("\n", " ") + "\n")
