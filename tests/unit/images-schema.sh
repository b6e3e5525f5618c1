#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Our images/*.proto against the schemas of Debian's pycriu (package criu):
# compile ours to a descriptor set with protoc-c and let images-schema.py
# compare field numbers, types, labels, defaults and enum values. TAP.
srcdir=${top_srcdir:-$(dirname "$0")/../..}
protoc=${PROTOC_C:-protoc-c}
python=/usr/bin/python3

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

if ! command -v "$protoc" >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - protoc-c not found"
	exit 1
fi
if ! $python -c 'import pycriu.images' 2>/dev/null; then
	echo "1..1"
	echo "not ok 1 - pycriu not importable by $python: install the Debian package criu"
	exit 1
fi
if ! "$protoc" --proto_path="$srcdir/images" --include_imports \
	--descriptor_set_out="$tmp/ours.pb" "$srcdir"/images/*.proto 2>"$tmp/err"; then
	echo "1..1"
	echo "not ok 1 - protoc-c compiles images/*.proto"
	sed 's/^/# /' "$tmp/err"
	exit 1
fi
exec $python "$srcdir/tests/unit/images-schema.py" "$tmp/ours.pb"
