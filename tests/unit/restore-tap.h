/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The restore tests: tap.h with every test a child subreaper that reaps
 * what it made. They need root (clone3 set_tid, ptrace, PR_SET_MM_MAP).
 */
#ifndef TESTS_UNIT_RESTORE_TAP_H
#define TESTS_UNIT_RESTORE_TAP_H

#include "tap.h"

static const struct tap_opts restore_tap_opts = {
	.timeout = 30,
	.subreaper = true,
	.quick_exit = true,
};

#endif /* TESTS_UNIT_RESTORE_TAP_H */
