/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Named fault-injection points of the restore, so tests can prove that a
 * failure at each stage leaves nothing behind: CRIU_RESTORE_FAULT=NAME
 * makes the point NAME fail with -EIO (and log that it did). Points:
 * images, fork, stage1, restorer, resume, pidfile, detach.
 */
#ifndef CORE_RESTORE_FAULT_H
#define CORE_RESTORE_FAULT_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <criu/log.h>

static inline bool rst_fault(const char *point)
{
	const char *want = getenv("CRIU_RESTORE_FAULT");

	if (!want || strcmp(want, point))
		return false;
	pr_err("fault injected at restore point '%s'", point);
	return true;
}

#endif /* CORE_RESTORE_FAULT_H */
