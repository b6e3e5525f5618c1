// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pending signals, read with PTRACE_PEEKSIGINFO (facts 3.15): every queued
 * instance, private or shared, as the raw 128-byte siginfo CRIU stores.
 */
#define LOG_PREFIX "regs: "
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include <criu/log.h>

#include "regs/regs.h"

#define PEEK_BATCH 32

void regs_sigqueue_free(SignalQueueEntry *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_signals; i++) {
		if (q->signals[i])
			free(q->signals[i]->siginfo.data);
		free(q->signals[i]);
	}
	free(q->signals);
	free(q);
}

static int add_siginfo(SignalQueueEntry *q, const struct k_siginfo *si)
{
	SiginfoEntry **ns, *e;

	ns = realloc(q->signals, (q->n_signals + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	q->signals = ns;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	siginfo_entry__init(e);
	e->siginfo.data = malloc(sizeof(*si));
	if (!e->siginfo.data) {
		free(e);
		return -ENOMEM;
	}
	memcpy(e->siginfo.data, si, sizeof(*si));
	e->siginfo.len = sizeof(*si);
	q->signals[q->n_signals++] = e;
	return 0;
}

int regs_dump_sigqueue(pid_t tid, bool shared, SignalQueueEntry **out)
{
	struct k_siginfo si[PEEK_BATCH];
	struct k_peeksiginfo_args a = { .flags = shared ? K_PTRACE_PEEKSIGINFO_SHARED : 0 };
	SignalQueueEntry *q;
	int ret = 0;

	*out = NULL;
	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	signal_queue_entry__init(q);
	for (;;) {
		long n;

		a.nr = PEEK_BATCH;
		n = ptrace((enum __ptrace_request)K_PTRACE_PEEKSIGINFO, tid, &a, si);
		if (n < 0) {
			ret = -errno;
			pr_perror("cannot read the %s pending signals of %d", shared ? "shared" : "private",
				  tid);
			goto err;
		}
		if (n == 0)
			break;
		for (long i = 0; i < n; i++) {
			ret = add_siginfo(q, &si[i]);
			if (ret)
				goto err;
		}
		a.off += (uint64_t)n;
	}
	if (q->n_signals)
		*out = q;
	else
		regs_sigqueue_free(q);
	return 0;
err:
	regs_sigqueue_free(q);
	return ret;
}
