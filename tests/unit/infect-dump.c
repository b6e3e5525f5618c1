// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The dump action end to end, with no plugin but a stand-in for regular
 * files (reg-kind.h: the exe, cwd, root): a task holding an fd
 * nobody handles must make the dump fail and keep running with no images
 * left; a task without fds dumps, and then runs on (-R), stays stopped (-s)
 * or is killed (the default); a stopped task stays stopped. A small tree
 * (a running child and a zombie) is dumped whole, and let go or killed
 * whole, also when the dump fails late.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "infect-tap.h"
#include "infect-target.h"

#include "actions.h"
#include "images/image.h"
#include "log/log.h"
#include "reg-kind.h"
#include "options/options.h"

static const struct opt_origin cli = { .kind = OPT_ORIGIN_CLI };

static void close_all_fds(int keep)
{
	for (int i = 0; i < 1024; i++)
		if (i != keep)
			close(i);
}

static void fdless(struct shared *sh)
{
	close_all_fds(-1);
	busy_counter(sh);
}

static void with_socket(struct shared *sh)
{
	int sk[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk))
		_exit(1);
	close_all_fds(sk[0]);
	busy_counter(sh);
}

static volatile long thread_counter[2];
static volatile pid_t thread_tid[2];

static void *spin(void *arg)
{
	long i = (long)arg;

	thread_tid[i] = gettid();
	for (;;) {
		thread_counter[i]++;
		if (i)
			usleep(1000); /* one thread sleeps in a syscall, one spins */
	}
	return NULL;
}

static void threaded(struct shared *sh)
{
	pthread_t t;

	for (long i = 0; i < 2; i++)
		if (pthread_create(&t, NULL, spin, (void *)i))
			_exit(1);
	while (!thread_tid[0] || !thread_tid[1])
		usleep(1000);
	sh->expect[0] = (uint64_t)thread_tid[0];
	sh->expect[1] = (uint64_t)thread_tid[1];
	close_all_fds(-1);
	/* The main thread reports the threads' progress through the shared page. */
	sh->ready = 1;
	for (;;) {
		sh->counter = thread_counter[0] + thread_counter[1];
		usleep(100);
	}
}

/* A parent with a running child (counting in expect[1]) and a zombie child (exit 3). */
static void forking(struct shared *sh)
{
	siginfo_t si;
	pid_t child, zombie;

	close_all_fds(-1);
	child = fork();
	if (child == 0)
		for (;;)
			sh->expect[1]++;
	zombie = fork();
	if (zombie == 0)
		_exit(3);
	if (child < 0 || zombie < 0 || waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT))
		_exit(1);
	sh->expect[2] = (uint64_t)child;
	sh->expect[3] = (uint64_t)zombie;
	busy_counter(sh);
}

static int child_is_running(struct shared *sh)
{
	uint64_t before = sh->expect[1];

	for (int i = 0; i < 1000; i++) {
		if (sh->expect[1] != before)
			return 1;
		usleep(1000);
	}
	return 0;
}

static char *make_dir(void)
{
	char *d = strdup("/tmp/criu-infect-dump.XXXXXX");

	return d && mkdtemp(d) ? d : NULL;
}

static int count_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void remove_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static int run_dump(pid_t pid, const char *dir, enum opt_id mode)
{
	struct action_result res = { 0 };
	struct options *o = opts_new();
	int ret;

	REQUIRE(o);
	if (pid)
		REQUIRE(opt_set_int(o, OPT_TREE, pid, &cli) == 0);
	REQUIRE(opt_set_str(o, OPT_IMAGES_DIR, dir, &cli) == 0);
	if (mode != OPT__COUNT)
		REQUIRE(opt_set_bool(o, mode, true, &cli) == 0);
	opts_set_action(o, ACT_DUMP);
	err_first_reset();
	ret = action_dump(o, &res);
	opts_free(o);
	return ret;
}

static off_t file_size(const char *dir, const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) ? -1 : st.st_size;
}

static void t_no_pid(void)
{
	char *dir = make_dir();

	REQUIRE(dir);
	CHECK_EQ(run_dump(0, dir, OPT__COUNT), -EINVAL);
	CHECK(err_first_message() && strstr(err_first_message(), "pid not specified"));
	remove_dir(dir);
	free(dir);
}

static void t_missing_pid(void)
{
	char *dir = make_dir();
	pid_t pid = fork();

	REQUIRE(dir && pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	CHECK_EQ(run_dump(pid, dir, OPT__COUNT), -ESRCH);
	CHECK(err_first_message() && strstr(err_first_message(), "No process with pid"));
	CHECK_EQ(count_files(dir), 0);
	remove_dir(dir);
	free(dir);
}

static void t_unhandled_fd_fails(void)
{
	struct shared *sh = shared_new();
	char *dir = make_dir();
	pid_t pid;

	REQUIRE(sh && dir);
	pid = target_start(sh, with_socket);
	target_wait_ready(sh);
	CHECK_EQ(run_dump(pid, dir, OPT__COUNT), -EOPNOTSUPP);
	CHECK(err_first_message() && strstr(err_first_message(), "socket:["));
	/* Nothing left that looks like a dump, and the task runs on untouched. */
	CHECK_EQ(count_files(dir), 0);
	CHECK(target_is_running(sh));
	CHECK(wait_state(pid, "RS"));
	kill(pid, SIGKILL);
	remove_dir(dir);
	free(dir);
}

static void t_leave_running(void)
{
	struct shared *sh = shared_new();
	char *dir = make_dir(), name[64];
	pid_t pid;

	REQUIRE(sh && dir);
	pid = target_start(sh, fdless);
	target_wait_ready(sh);
	CHECK_EQ(run_dump(pid, dir, OPT_LEAVE_RUNNING), 0);
	CHECK(target_is_running(sh));
	CHECK(file_size(dir, "inventory.img") > 0);
	CHECK(file_size(dir, "pstree.img") > 0);
	CHECK(file_size(dir, "files.img") > 0);
	CHECK(file_size(dir, "stats-dump") > 0);
	snprintf(name, sizeof(name), "core-%d.img", pid);
	CHECK(file_size(dir, name) > 0);
	snprintf(name, sizeof(name), "mm-%d.img", pid);
	CHECK(file_size(dir, name) > 0);
	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	CHECK(file_size(dir, name) > 0);
	/* The shared page with the test is shared anonymous memory: its own pages file. */
	CHECK(file_size(dir, "pages-1.img") > 0);
	CHECK_EQ(file_size(dir, "pages-2.img") % 4096, 0);
	if (access("/usr/bin/crit", X_OK) == 0) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd),
			 "for f in %s/*.img %s/stats-dump; do case $f in */pages-*) continue;; esac; "
			 "crit decode -i $f >/dev/null || exit 1; done", dir, dir);
		CHECK_EQ(system(cmd), 0);
	}
	kill(pid, SIGKILL);
	remove_dir(dir);
	free(dir);
}

static void t_default_kills(void)
{
	struct shared *sh = shared_new();
	char *dir = make_dir();
	pid_t pid;

	REQUIRE(sh && dir);
	pid = target_start(sh, fdless);
	target_wait_ready(sh);
	CHECK_EQ(run_dump(pid, dir, OPT__COUNT), 0);
	CHECK(!target_is_running(sh));
	CHECK_EQ(kill(pid, 0), -1);
	remove_dir(dir);
	free(dir);
}

static void t_leave_stopped(void)
{
	struct shared *sh = shared_new();
	char *dir = make_dir();
	pid_t pid;

	REQUIRE(sh && dir);
	pid = target_start(sh, fdless);
	target_wait_ready(sh);
	CHECK_EQ(run_dump(pid, dir, OPT_LEAVE_STOPPED), 0);
	CHECK(wait_state(pid, "T"));
	kill(pid, SIGCONT);
	CHECK(target_is_running(sh));
	kill(pid, SIGKILL);
	remove_dir(dir);
	free(dir);
}

static void t_stopped_task(void)
{
	struct shared *sh = shared_new();
	char *dir = make_dir();
	pid_t pid;

	REQUIRE(sh && dir);
	pid = target_start(sh, fdless);
	target_wait_ready(sh);
	kill(pid, SIGSTOP);
	REQUIRE(wait_state(pid, "T"));
	CHECK_EQ(run_dump(pid, dir, OPT_LEAVE_RUNNING), 0);
	/* "Leave running" means as it was: it was stopped. */
	CHECK(wait_state(pid, "T"));
	kill(pid, SIGCONT);
	CHECK(target_is_running(sh));
	kill(pid, SIGKILL);
	remove_dir(dir);
	free(dir);
}

/* pre-dump saves memory and lets the task run; a dump on top links its parent. */
static void t_pre_dump(void)
{
	struct action_result res = { 0 };
	struct shared *sh = shared_new();
	char *pre = make_dir(), *dir = make_dir(), name[64], link[512];
	struct options *o;
	pid_t pid;

	REQUIRE(sh && pre && dir);
	pid = target_start(sh, fdless);
	target_wait_ready(sh);
	o = opts_new();
	REQUIRE(o);
	REQUIRE(opt_set_int(o, OPT_TREE, pid, &cli) == 0);
	REQUIRE(opt_set_str(o, OPT_IMAGES_DIR, pre, &cli) == 0);
	opts_set_action(o, ACT_PRE_DUMP);
	CHECK_EQ(action_pre_dump(o, &res), 0);
	opts_free(o);
	CHECK(target_is_running(sh));
	CHECK(file_size(pre, "inventory.img") > 0);
	CHECK(file_size(pre, "pages-1.img") > 0);
	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	CHECK(file_size(pre, name) > 0);
	snprintf(name, sizeof(name), "core-%d.img", pid);
	CHECK_EQ(file_size(pre, name), -1);

	o = opts_new();
	REQUIRE(o);
	REQUIRE(opt_set_int(o, OPT_TREE, pid, &cli) == 0);
	REQUIRE(opt_set_str(o, OPT_IMAGES_DIR, dir, &cli) == 0);
	REQUIRE(opt_set_str(o, OPT_PREV_IMAGES_DIR, pre, &cli) == 0);
	REQUIRE(opt_set_bool(o, OPT_LEAVE_RUNNING, true, &cli) == 0);
	opts_set_action(o, ACT_DUMP);
	CHECK_EQ(action_dump(o, &res), 0);
	opts_free(o);
	snprintf(link, sizeof(link), "%s/parent", dir);
	CHECK(access(link, F_OK) == 0);
	CHECK(target_is_running(sh));
	kill(pid, SIGKILL);
	unlink(link);
	remove_dir(pre);
	remove_dir(dir);
	free(pre);
	free(dir);
}

/* A failure after every image was written: task as before, no images left. */
static void t_late_failure(void)
{
	const char *points[] = { "dump-before-memory", "dump-before-cure" };

	for (int i = 0; i < 2; i++) {
		struct shared *sh = shared_new();
		char *dir = make_dir();
		pid_t pid;

		REQUIRE(sh && dir);
		pid = target_start(sh, threaded);
		target_wait_ready(sh);
		setenv("CRIU_FAULT", points[i], 1);
		CHECK_EQ(run_dump(pid, dir, OPT__COUNT), -EIO);
		unsetenv("CRIU_FAULT");
		CHECK_EQ(count_files(dir), 0);
		CHECK(target_is_running(sh));
		CHECK(wait_state(pid, "RS"));
		kill(pid, SIGKILL);
		remove_dir(dir);
		free(dir);
	}
}

static void t_threads(void)
{
	struct shared *sh = shared_new();
	char *dir = make_dir(), name[64];
	pid_t pid;

	REQUIRE(sh && dir);
	pid = target_start(sh, threaded);
	target_wait_ready(sh);
	CHECK_EQ(run_dump(pid, dir, OPT_LEAVE_RUNNING), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "core-%d.img", (int)sh->expect[i]);
		CHECK(file_size(dir, name) > 0);
	}
	snprintf(name, sizeof(name), "core-%d.img", pid);
	CHECK(file_size(dir, name) > 0);
	CHECK(target_is_running(sh));
	/* And killing a threaded task leaves nothing behind. */
	CHECK_EQ(run_dump(pid, dir, OPT__COUNT), 0);
	CHECK_EQ(kill(pid, 0), -1);
	remove_dir(dir);
	free(dir);
}

static void t_tree(void)
{
	struct shared *sh = shared_new();
	char *dir = make_dir(), name[64];
	pid_t pid, child, zombie;

	REQUIRE(sh && dir);
	pid = target_start(sh, forking);
	target_wait_ready(sh);
	child = (pid_t)sh->expect[2];
	zombie = (pid_t)sh->expect[3];
	CHECK_EQ(run_dump(pid, dir, OPT_LEAVE_RUNNING), 0);
	snprintf(name, sizeof(name), "mm-%d.img", child);
	CHECK(file_size(dir, name) > 0);
	snprintf(name, sizeof(name), "core-%d.img", zombie);
	CHECK(file_size(dir, name) > 0);
	snprintf(name, sizeof(name), "mm-%d.img", zombie);
	CHECK_EQ(file_size(dir, name), -1);
	CHECK(target_is_running(sh));
	CHECK(child_is_running(sh));
	CHECK(wait_state(child, "RS"));
	CHECK(wait_state(zombie, "Z"));
	/* The default kills the whole tree. */
	CHECK_EQ(run_dump(pid, dir, OPT__COUNT), 0);
	CHECK(!target_is_running(sh));
	CHECK(!child_is_running(sh));
	CHECK(proc_state_of(child) == 0 || proc_state_of(child) == 'Z');
	remove_dir(dir);
	free(dir);
}

/* A late failure in a tree: every process runs on, no images are left. */
static void t_tree_late_failure(void)
{
	const char *points[] = { "dump-before-memory", "dump-before-cure", "dump-before-release" };

	for (int i = 0; i < 3; i++) {
		struct shared *sh = shared_new();
		char *dir = make_dir();
		pid_t pid, child;

		REQUIRE(sh && dir);
		pid = target_start(sh, forking);
		target_wait_ready(sh);
		child = (pid_t)sh->expect[2];
		setenv("CRIU_FAULT", points[i], 1);
		CHECK_EQ(run_dump(pid, dir, OPT__COUNT), -EIO);
		unsetenv("CRIU_FAULT");
		CHECK_EQ(count_files(dir), 0);
		CHECK(target_is_running(sh));
		CHECK(child_is_running(sh));
		CHECK(wait_state(pid, "RS"));
		CHECK(wait_state(child, "RS"));
		kill(child, SIGKILL);
		kill(pid, SIGKILL);
		remove_dir(dir);
		free(dir);
	}
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_no_pid),
		TAP_TEST(t_missing_pid),
		TAP_TEST(t_unhandled_fd_fails),
		TAP_TEST(t_leave_running),
		TAP_TEST(t_default_kills),
		TAP_TEST(t_leave_stopped),
		TAP_TEST(t_stopped_task),
		TAP_TEST(t_threads),
		TAP_TEST(t_late_failure),
		TAP_TEST(t_pre_dump),
		TAP_TEST(t_tree),
		TAP_TEST(t_tree_late_failure),
	};

	/* The core has its exe, cwd, root and mapped files saved by a plugin kind. */
	if (reg_kind_start())
		return 1;
	return tap_run(tests, TAP_COUNT(tests), &infect_tap_opts);
}
