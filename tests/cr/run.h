/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C/R runner's shared types and the functions its files share:
 * run.c (the main loop and the variants), run-util.c, run-proc.c,
 * run-tree.c, run-snap.c and run-criu.c.
 */
#ifndef TESTS_CR_RUN_H
#define TESTS_CR_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define MAX_ARGS 64
#define MAX_TESTS 256

enum result { RES_PASS, RES_FAIL, RES_SKIP };

struct config {
	const char *criu;
	const char *libdir;
	const char *srcdir;
	const char *bindir;
	const char *python;
	char workdir[PATH_MAX];
	const char *only_variant;
	int timeout;
	bool keep;
	bool no_cr; /* run the programs only: no dump, no restore */
	bool verbose;
};

/* `inherit: pipe N` or `inherit: file N NAME` (run-inherit.c). */
#define MAX_INHERIT 4
#define INHERIT_BASE 1000 /* N must be below; the runner's fds pass above it */
struct inherit {
	bool file;
	int fd;
	char name[128];
};

/* What a NAME.desc file says. */
struct desc {
	char variants[256];
	char opts[1024];
	char dump_opts[1024];
	char restore_opts[1024];
	char dump_error[512];
	char restore_error[512];    /* words the failed restore must name (expect: restore-fails) */
	char before_restore[1024];  /* shell command run between dump and restore */
	char program[64];	    /* the program to run, when not the test's name */
	bool must_fail;
	bool restore_must_fail;
	bool stop; /* stopped by SIGSTOP before the dump, SIGCONT before SIGUSR1 */
	int timeout;
	struct inherit inherit[MAX_INHERIT];
	int nr_inherit;
};

/* The runner's side of one `inherit` line. */
struct inherit_run {
	int old_rd;  /* pipe: the read end of the test's pipe */
	int child;   /* pipe: the write end, until the test has it */
	int pass;    /* what criu inherits (the new pipe's write end, the new file) */
	int new_rd;  /* pipe: the read end of the new pipe */
	unsigned int flags; /* the test's fd: open flags and offset before the dump */
	long long pos;
	char key[PATH_MAX];
	char opt[PATH_MAX + 16]; /* fd[K]:KEY */
	char rpc[PATH_MAX + 16]; /* K:KEY, for rpc-cr.py */
};

/* One test and variant being run. */
struct run {
	const struct config *cfg;
	const char *name;
	const char *variant;
	struct desc desc;
	char dir[PATH_MAX];
	char pidfile[PATH_MAX];
	char outfile[PATH_MAX];
	pid_t pid;
	bool reaped;	   /* the test died and was reaped while criu ran */
	int reaped_status; /* its wait status then */
	pid_t helper;	   /* a helper the variant waits for itself (the page server), or 0 */
	struct timespec deadline;
	char reason[1024];
	struct inherit_run inh[MAX_INHERIT];
	bool inherit_restore; /* criu's next restore inherits inh[].pass */
	/* extra files whose tail is shown on failure */
	char logs[6][PATH_MAX];
	int nr_logs;
};


/* run-util.c */
int xsnprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Record the reason of a failure; the first one wins. */
void set_reason(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double now_sec(void);
bool past(const struct timespec *deadline);
void nap_ms(long ms);
void nap(void);
/* Read a whole small file into a malloc'ed string; NULL on error. */
char *read_file(const char *path);
bool file_exists(const char *path);
/* Print the last LINES lines of PATH, indented. */
void print_tail(const char *path, int lines);
void rm_tree(const char *path);
/* Split S at blanks into ARGV (appending after *ARGC); S is modified. */
void split_args(char *s, char **argv, int *argc);
/* Copy SRC to DST (size LEN), replacing %SRCDIR%, %BINDIR%, %DIR% and %PID%. */
void expand(const struct run *r, const char *src, char *dst, size_t len);
void describe_status(int status, char *buf, size_t len);
/* Every token of WORDS (expanded) must be in the file LOG or OUT; else a reason naming ACTION. */
int check_error_words(struct run *r, const char *words, const char *action, const char *log, const char *out);

/* run-proc.c */
int wait_pid(pid_t pid, const struct timespec *deadline, int *status);
int list_children(pid_t *out, int max);
void kill_all(void);
int task_state(pid_t pid, char *state);
int wait_cmd(struct run *r, pid_t pid, int *status);
int run_cmd(struct run *r, char **argv, const char *out);
int start_test(struct run *r);
int wait_ready(struct run *r);

/* run-tree.c */
#define MAX_PROCS 4096
#define MAX_THREADS 4096

struct proc_info {
	pid_t pid, ppid, pgid, sid;
	char state;	/* the letter of stat(5) */
	int exit_code;	/* a zombie's wait status */
};

int proc_stat(pid_t pid, struct proc_info *pi);
int list_tree(pid_t root, pid_t *out, int max);
void snap_threads(FILE *out, pid_t pid);

/* run-snap.c */
char *snapshot(pid_t pid);
int diff_lines(const char *a, const char *b, const char *when, bool print);
int check_state(struct run *r, const char *snap, const char *when);
char *stable_snapshot(pid_t pid);

/* run-inherit.c */
int inherit_parse(struct desc *d, const char *val, const char *path);
int inherit_start(struct run *r);
void close_fds_except(const int *keep, int n);
void inherit_child_fds(struct run *r);
void inherit_criu_fds(struct run *r);
int inherit_ready(struct run *r);
int inherit_prepare(struct run *r);
void inherit_cli_opts(struct run *r, char *buf, size_t len);
int inherit_check_restored(struct run *r);
int inherit_check_end(struct run *r, bool restored);
void inherit_close(struct run *r);

/* run-criu.c */
int criu_dump(struct run *r, const char *action, const char *sub, const char *extra, char *out_path,
	      size_t out_len);
int criu_restore(struct run *r, const char *sub, pid_t *pid);
int rpc_cmd(struct run *r, const char *action, const char *sub, const char *out, pid_t *pid);
/* The desc's before-restore command, in the test's dir. */
int before_restore(struct run *r);
/* expect: restore-fails: the restore fails, names restore-error, leaves nothing behind. */
enum result restore_must_fail(struct run *r, bool rpc);

#endif /* TESTS_CR_RUN_H */
