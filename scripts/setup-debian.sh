#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install every package needed to build criu and run all its tests on
# Debian 12 (run as root). Does nothing when all are installed already.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake libtool pkg-config binutils git
	protobuf-c-compiler libprotobuf-c-dev
	libnl-3-dev libnl-route-3-dev libinih-dev libcap-dev
	# the clang build and the sanitizer builds
	clang libclang-rt-dev
	# tests: Debian's crit and pycriu (package criu) read our images and
	# drive our RPC; python3-protobuf for them; tools the plugins call
	criu python3 python3-protobuf
	iproute2 iptables nftables procps psmisc
)

if [ "$(id -u)" != 0 ]; then
	echo "setup-debian.sh: run as root (sudo $0)" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup-debian.sh: all ${#PACKAGES[@]} packages are installed"
	exit 0
fi

echo "setup-debian.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
