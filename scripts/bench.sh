#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build (if needed) and run the benchmarks: sudo scripts/bench.sh
# BENCH_MEM_MIB sets the memory size of bench-mem (default 1024).
# It also dumps and restores a tree of 100 processes and a process with 100
# threads (bench-tree-task; the environment variable BENCH_TREE_N changes the count),
# and a process with 10,000 fds (the C/R test fds10k00).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
"$src/scripts/build.sh" "$build" >/dev/null
make -C "$build" -s bench
