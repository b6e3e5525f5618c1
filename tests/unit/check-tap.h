/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core/check and core/cpu unit tests: tap.h with a 60 s timeout and
 * the log at debug level only when $CRIU_TEST_VERBOSE is set. A test may
 * call TAP_SKIP() when this host cannot run it.
 */
#ifndef TESTS_UNIT_CHECK_TAP_H
#define TESTS_UNIT_CHECK_TAP_H

#include <stdlib.h>

#include "log/log.h"
#include "tap.h"

static void check_tap_setup(void)
{
	log_set_level(getenv("CRIU_TEST_VERBOSE") ? 4 : 1);
}

static const struct tap_opts check_tap_opts = {
	.timeout = 60,
	.setup = check_tap_setup,
};

#endif /* TESTS_UNIT_CHECK_TAP_H */
