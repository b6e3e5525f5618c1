/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Going to the background the way "criu service -d" and "criu page-server
 * -d" do: the command returns only once the daemon is ready, so a script
 * that starts one may connect right after.
 */
#ifndef CORE_RPC_DAEMON_H
#define CORE_RPC_DAEMON_H

struct options;

/*
 * Fork; the parent waits for the child's ready byte on a pipe and exits
 * 0 (or 1 when the child died first). The child starts a new session,
 * points 0-2 at /dev/null and gets the pipe's write end in *READY_FD
 * for daemon_release_parent().
 */
int daemon_detach(int *ready_fd);

/* Let the parent of daemon_detach() return; closes *READY_FD (-1: none). */
void daemon_release_parent(int *ready_fd);

/* Write our pid to PATH. */
int daemon_write_pidfile(const char *path);

/*
 * Tell whoever waits that we are ready: the status-ready notification
 * (RPC client, --action-script) and a byte on --status-fd, which is
 * closed afterwards.
 */
int daemon_status_ready(struct options *o);

#endif /* CORE_RPC_DAEMON_H */
