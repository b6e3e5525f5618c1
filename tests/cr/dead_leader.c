// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * For dead_leader.sh: a process whose main thread (the thread-group
 * leader) calls pthread_exit() while a second thread runs on. It prints
 * its pid once the leader is a zombie thread, then the thread sleeps.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *worker(void *arg)
{
	char path[64], buf[256], *p, st = 0;

	(void)arg;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", getpid());
	while (st != 'Z') {
		FILE *f = fopen(path, "r");

		if (f && fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			st = p[2];
		if (f)
			fclose(f);
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	printf("%d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, worker, NULL))
		return 1;
	pthread_exit(NULL);
}
