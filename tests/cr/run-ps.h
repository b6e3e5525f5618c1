/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runner's "page-server" variant: the dump sends its pages to a
 * "criu page-server" on 127.0.0.1, which writes them into a directory
 * of its own; the restore runs from the dump's directory once the page
 * server's images are moved there (as one would copy them after a
 * migration). Kept apart from run.c, which only calls these two.
 */
#ifndef TESTS_CR_RUN_PS_H
#define TESTS_CR_RUN_PS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Start "CRIU page-server -D DIR" with a port of its choosing (its log
 * goes to DIR/page-server.log). *PID and *PORT are set on success;
 * otherwise ERR says why. Returns 0 or -1.
 */
int ps_start(const char *criu, const char *dir, pid_t *pid, int *port, char *err, size_t len);

/*
 * After the dump: the page server PID must exit 0 within TIMEOUT_SEC;
 * DUMP_DIR must hold no pagemap or pages image of its own (the pages went
 * to the server); the server's pagemap-*.img and pages-*.img in PS_DIR
 * are moved into DUMP_DIR. Returns 0, or -1 with ERR set.
 */
int ps_collect(pid_t pid, const char *ps_dir, const char *dump_dir, int timeout_sec, char *err, size_t len);

#endif /* TESTS_CR_RUN_PS_H */
