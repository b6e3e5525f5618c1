/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Notifications: the stages of an action that a user can hook.
 *
 * One call site per stage drives both ways of hooking it:
 *  - RPC: when the client asked for notify_scripts, criu sends
 *    criu_resp{type NOTIFY, notify{script NAME, pid}} on the request's
 *    socket and waits for criu_req{type NOTIFY, notify_success};
 *  - --action-script FILE (any number; from the CLI or a config file):
 *    each runs as "sh -c FILE" with CRTOOLS_SCRIPT_ACTION=NAME,
 *    CRTOOLS_IMAGE_DIR=<images dir> and CRTOOLS_INIT_PID=PID (when known)
 *    in its environment, and must exit 0.
 * The RPC client is asked first, then the scripts, in order.
 *
 * Names (CRIU's): pre-dump, post-dump, pre-restore, post-restore,
 * network-lock, network-unlock, setup-namespaces, post-setup-namespaces,
 * pre-resume, post-resume, orphan-pts-master, status-ready,
 * query-ext-files, pre-stream.
 */
#ifndef CORE_RPC_NOTIFY_H
#define CORE_RPC_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

struct options;

/*
 * Run the hooks of stage NAME. PID is the real pid of the restored (or
 * dumped) root task, or 0 when not known yet. Returns 0 when every hook
 * agreed, -ECANCELED when the RPC client answered false or a script
 * failed, or another negative errno when asking failed (connection lost,
 * fork failed). Call it from the criu process that holds the RPC socket
 * (the worker or its forked action child), never from a restored task.
 *
 * "query-ext-files" goes to the RPC client only: its answer may carry
 * opts.external keys, which are appended to O's --external list.
 * O may be NULL: then only the RPC client is asked.
 */
int notify_event(struct options *o, const char *name, pid_t pid);

/* The same, also passing FD to the RPC client (orphan-pts-master). */
int notify_event_fd(struct options *o, const char *name, pid_t pid, int fd);

/*
 * For the RPC server: send notifications on SK from now on (-1: stop).
 * ENABLED is the request's notify_scripts. One connection per process,
 * so this is process-wide state.
 */
void notify_rpc_attach(int sk, bool enabled);

#endif /* CORE_RPC_NOTIFY_H */
