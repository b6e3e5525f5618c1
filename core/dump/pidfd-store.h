/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pidfd store of RPC's pidfd_store_sk, as CRIU keeps it: an unnamed
 * AF_UNIX SOCK_DGRAM socket of the client, which criu takes with
 * pidfd_getfd, binds to an abstract name and connects to itself. After a
 * pre-dump (or a dump that leaves the tasks running) it queues one
 * message per task of the tree: the pid as data and a pidfd of the task
 * (SCM_RIGHTS).
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

struct pstree;

/* RPC: take fd FD of the client CLIENT as the store (replacing any). */
int pidfd_store_attach(pid_t client, int fd);

/*
 * At the start of a (pre-)dump: drain what the previous iteration left.
 * With HAS_PARENT an empty store is an error, as in CRIU (a different
 * socket than last time was passed). No store attached: nothing to do.
 */
int pidfd_store_load(bool has_parent);

/*
 * With HAS_PARENT (and a store loaded), check every live process of the
 * seized tree T for pid reuse, as CRIU does for each task it dumps.
 */
int pidfd_store_check_tree(const struct pstree *t, bool has_parent);

/* 1: PID is not the task the store knew (pid reuse); 0: the same; <0 error. */
int pidfd_store_check_reuse(pid_t pid);

/* Queue a pidfd of PID for the next iteration. */
int pidfd_store_add(pid_t pid);

/* pidfd_store_add() for every process of the tree T, as CRIU stores every task. */
int pidfd_store_add_tree(const struct pstree *t);

/* Whether a store is attached. */
bool pidfd_store_ready(void);

/* Forget the loaded entries (the socket stays for the next request). */
void pidfd_store_unload(void);

#endif /* CORE_DUMP_PIDFD_STORE_H */
