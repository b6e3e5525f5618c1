#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Generate ./configure from configure.ac and the Makefile.am fragments.
set -e
cd "$(dirname "$0")"
autoreconf --install --force
