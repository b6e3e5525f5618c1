/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The infection tests: tap.h with every test a child subreaper in its own
 * process group, so the targets it forks are killed and reaped with it.
 * Needs root (ptrace of children works for any user, but the tests also
 * use map_files and SUSPEND_SECCOMP paths).
 */
#ifndef TESTS_UNIT_INFECT_TAP_H
#define TESTS_UNIT_INFECT_TAP_H

#include <stdlib.h>

#include "log/log.h"
#include "tap.h"

static void infect_tap_setup(void)
{
	log_set_level(getenv("CRIU_TEST_VERBOSE") ? 4 : 1);
}

static const struct tap_opts infect_tap_opts = {
	.timeout = 30,
	.subreaper = true,
	.quick_exit = true,
	.setup = infect_tap_setup,
};

#endif /* TESTS_UNIT_INFECT_TAP_H */
