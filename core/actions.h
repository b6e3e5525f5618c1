/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The actions of the criu command, one function each. core/main.c parses
 * the command line into a struct options and calls one of these; the RPC
 * server builds a struct options from a criu_req and calls the same ones.
 * Each returns 0 or a negative errno, having logged the cause with pr_err
 * (the first error becomes the CLI summary and the RPC cr_errmsg).
 */
#ifndef CORE_ACTIONS_H
#define CORE_ACTIONS_H

#include <sys/types.h>

struct options;

/* What a finished action reports back to its caller (CLI or RPC). */
struct action_result {
	pid_t restored_pid;  /* restore: real pid of the restored root */
	int exit_status;     /* restore without -d: the root's exit code */
	int ps_port;	     /* page-server: the port it listens on */
	pid_t ps_pid;	     /* page-server: its pid */
	int cpuinfo_mismatch; /* cpuinfo check: 1 when the CPU does not match */
};

int action_dump(struct options *o, struct action_result *res);
int action_pre_dump(struct options *o, struct action_result *res);
int action_restore(struct options *o, struct action_result *res);
int action_check(struct options *o, struct action_result *res);
int action_cpuinfo_dump(struct options *o, struct action_result *res);
int action_cpuinfo_check(struct options *o, struct action_result *res);
int action_page_server(struct options *o, struct action_result *res);
int action_service(struct options *o, struct action_result *res);
/* criu swrk FD: serve RPC requests on an inherited socket. */
int action_swrk(struct options *o, int fd, struct action_result *res);
int action_dedup(struct options *o, struct action_result *res);
/* criu plugins: list plugins found and loaded. */
int action_plugins(struct options *o, struct action_result *res);

#endif /* CORE_ACTIONS_H */
