#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build criu out of tree: scripts/build.sh DIR [CONFIGURE-ARGS...]
# Runs autogen.sh when configure is missing or older than configure.ac,
# configures DIR (once; again when the arguments change) and runs make.
# Environment: CC (compiler), JOBS (make -j, default: number of CPUs).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILDDIR [CONFIGURE-ARGS...]" >&2
	exit 2
fi
build=$1
shift
jobs=${JOBS:-$(nproc)}

if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ]; then
	(cd "$src" && ./autogen.sh)
fi
mkdir -p "$build"
cd "$build"
want="CC=${CC:-} $*"
if [ ! -f Makefile ] || [ "$(cat .build-args 2>/dev/null)" != "$want" ]; then
	"$src/configure" -q "$@"
	echo "$want" >.build-args
fi
make -j"$jobs"
