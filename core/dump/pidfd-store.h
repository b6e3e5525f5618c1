/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pidfd store of RPC's pidfd_store_sk, as CRIU keeps it: an unnamed
 * AF_UNIX SOCK_DGRAM socket of the client, which criu takes with
 * pidfd_getfd, binds to an abstract name and connects to itself. After a
 * pre-dump (or a dump that leaves the tasks running) it queues one
 * message per task: the pid as data and a pidfd of the task (SCM_RIGHTS).
 * The next iteration, given the same socket, drains the queue and tells
 * pid reuse apart from the same task: a pid without a stored pidfd, or
 * whose stored pidfd polls readable (the task it named has exited), is a
 * different task than the one the parent images describe.
 *
 * CRIU then dumps such a task's memory in full instead of relying on the
 * parent. This criu always saves every page (no dirty tracking here), so
 * the result is only reported; the store is kept so that iterative
 * clients (criu_set_pidfd_store_sk) work unchanged.
 */
#ifndef CORE_DUMP_PIDFD_STORE_H
#define CORE_DUMP_PIDFD_STORE_H

#include <stdbool.h>
#include <sys/types.h>

/* RPC: take fd FD of the client CLIENT as the store (replacing any). */
int pidfd_store_attach(pid_t client, int fd);

/*
 * At the start of a (pre-)dump: drain what the previous iteration left.
 * With HAS_PARENT an empty store is an error, as in CRIU (a different
 * socket than last time was passed). No store attached: nothing to do.
 */
int pidfd_store_load(bool has_parent);

/* Load (as pidfd_store_load()) and, with HAS_PARENT, check PID for reuse. */
int pidfd_store_begin(bool has_parent, pid_t pid);

/* 1: PID is not the task the store knew (pid reuse); 0: the same; <0 error. */
int pidfd_store_check_reuse(pid_t pid);

/* Queue a pidfd of PID for the next iteration. */
int pidfd_store_add(pid_t pid);

/* Whether a store is attached. */
bool pidfd_store_ready(void);

/* Forget the loaded entries (the socket stays for the next request). */
void pidfd_store_unload(void);

#endif /* CORE_DUMP_PIDFD_STORE_H */
