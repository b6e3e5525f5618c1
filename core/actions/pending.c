// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Temporary stand-ins for the actions of core/actions.h that nobody has
 * written yet, so that criu links while the areas grow. Whoever writes
 * one of these deletes it from here in the same change; the file goes
 * when it is empty.
 */
#include <errno.h>

#include <criu/log.h>

#include "actions.h"

#define PENDING(name)                                     \
	do {                                              \
		pr_err("%s is not implemented yet", name); \
		return -ENOSYS;                           \
	} while (0)

int action_page_server(struct options *o, struct action_result *res)
{
	PENDING("page-server");
}

int action_dedup(struct options *o, struct action_result *res)
{
	PENDING("dedup");
}
