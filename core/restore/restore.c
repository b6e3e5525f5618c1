// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `criu restore`: recreate the dumped task with its pid and let it carry
 * on. The stages run in this order (each in its own file, see restore.h):
 *
 *   read images -> RESTORE_INIT hooks -> PRE_FORK hooks -> fork + seize
 *   -> (child) stage 1 and the restorer -> catch the sigreturn, unmap the
 *   bootstrap region -> POST_RESTORE, pidfile, PRE_RESUME -> detach ->
 *   POST_RESUME -> without -d, wait for the task and report its exit.
 *
 * A failure at any point kills the task (if it exists yet), removes the
 * pidfile (if written) and returns the first error.
 */
#define LOG_PREFIX "restore: "
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criu/log.h>

#include "actions.h"
#include "images/image.h"
#include "images/magic.h"
#include "stats.pb-c.h"
#include "log/log.h"
#include "options/options.h"
#include "plugins/plugins.h"
#include "restore/fault.h"
#include "restore/restore.h"
#include "rpc/notify.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run_hooks(struct rst_ctx *c, enum cp_stage stage, int result)
{
	struct cp_hook_ctx h;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	h.stage = stage;
	h.pid = c->pid;
	h.real_pid = c->child;
	h.ret = result;
	return plugins_run_hooks(&h);
}

static int write_pidfile(struct rst_ctx *c)
{
	char buf[32];
	int fd, n, ret = 0;

	fd = open(c->opts.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_perror("cannot create the pidfile %s", c->opts.pidfile);
		return -errno;
	}
	n = snprintf(buf, sizeof(buf), "%d", c->child);
	if (write(fd, buf, (size_t)n) != n) {
		ret = -errno;
		pr_perror("cannot write the pidfile %s", c->opts.pidfile);
	}
	if (close(fd) && !ret) {
		ret = -errno;
		pr_perror("cannot write the pidfile %s", c->opts.pidfile);
	}
	return ret;
}

/* Let the task go: stopped with -s or when it was dumped stopped (1.8). */
static int detach(struct rst_ctx *c)
{
	int stop = 0, ret;

	if (!c->seized)
		return 0;
	if (c->opts.leave_stopped)
		stop = SIGSTOP;
	else if (c->core->tc->task_state == 3 /* TASK_STOPPED */)
		stop = c->core->tc->has_stop_signo ? (int)c->core->tc->stop_signo : SIGSTOP;
	if (stop && kill(c->child, stop)) {
		pr_perror("cannot stop pid %d", c->child);
		return -errno;
	}
	ret = rst_detach_threads(c);
	if (ret)
		return ret;
	if (ptrace(PTRACE_DETACH, c->child, 0, 0)) {
		pr_perror("cannot detach from pid %d", c->child);
		return -errno;
	}
	c->seized = false;
	return 0;
}

static int wait_task(struct rst_ctx *c, struct action_result *res)
{
	int status;

	err_ctx_set_stage("wait");
	while (waitpid(c->child, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("cannot wait for pid %d", c->child);
			return -errno;
		}
	}
	if (WIFEXITED(status))
		res->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_status = 128 + WTERMSIG(status);
	pr_info("pid %d finished with status %d", c->child, res->exit_status);
	c->child = 0;
	return 0;
}

static void close_channels(struct rst_tree *t)
{
	for (size_t k = 0; k < t->nr_tasks; k++) {
		struct rst_ctx *c = &t->tasks[k];
		int *fds[] = { &c->report_rd, &c->report_wr, &c->go_rd, &c->go_wr };

		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
			if (*fds[i] >= 0)
				close(*fds[i]);
			*fds[i] = -1;
		}
	}
}

/*
 * stats-restore and --display-stats, as CRIU has them. Pages are counted
 * from the pagemaps: every present or parent page was put in place.
 */
static void write_stats(const struct rst_tree *t, double forking_ms, double total_ms)
{
	RestoreStatsEntry rs = RESTORE_STATS_ENTRY__INIT;
	StatsEntry st = STATS_ENTRY__INIT;
	struct image *img;
	uint64_t pages = 0;

	for (size_t k = 0; k < t->nr_tasks; k++) {
		const struct rst_ctx *c = &t->tasks[k];

		for (size_t i = 0; i < c->nr_pm; i++)
			pages += c->pm[i]->has_nr_pages ? c->pm[i]->nr_pages :
							  c->pm[i]->compat_nr_pages;
	}
	rs.forking_time = (uint32_t)(forking_ms * 1000);
	rs.restore_time = (uint32_t)(total_ms * 1000);
	rs.has_pages_restored = true;
	rs.pages_restored = pages;
	st.restore = &rs;
	/* The stats are for people; failing to write them fails nothing. */
	if (!img_open_write(t->dir, "stats-restore", STATS_MAGIC, &img)) {
		if (img_write_msg(img, &st.base))
			pr_warn("Can't write stats-restore");
		img_close(img);
	}
	if (t->opts.o && opt_bool(t->opts.o, OPT_DISPLAY_STATS)) {
		pr_msg("Displaying restore stats:\n");
		pr_msg("Pages compared: %llu (0x%llx)\n", 0ULL, 0ULL);
		pr_msg("Pages skipped COW: %llu (0x%llx)\n", 0ULL, 0ULL);
		pr_msg("Pages restored: %llu (0x%llx)\n", (unsigned long long)pages, (unsigned long long)pages);
		pr_msg("Restore time: %u us\n", rs.restore_time);
		pr_msg("Forking time: %u us\n", rs.forking_time);
	}
}

/*
 * --auto-dedup on restore (CRIU): the pages put back are punched out of
 * the pages images, which keep their size. Done once the tree runs: a
 * failed restore must find its images whole.
 */
static void punch_restored_pages(struct rst_tree *t)
{
	int dfd = img_dir_fd(t->dir);

	for (size_t i = 0; i < t->nr_tasks; i++) {
		const struct rst_ctx *c = &t->tasks[i];
		struct stat st;
		int fd;

		if (c->kind != RST_TASK_LIVE || !c->pages_name[0])
			continue;
		fd = openat(dfd, c->pages_name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue; /* a task without pages */
		if (!fstat(fd, &st) && st.st_size &&
		    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, st.st_size))
			pr_warn("--auto-dedup: cannot punch %s: %s", c->pages_name, strerror(errno));
		close(fd);
	}
}

/* Zombies end right after barrier 2; make sure they have before anything runs. */
static int check_zombies(struct rst_tree *t)
{
	for (size_t i = 0; i < t->nr_tasks; i++) {
		struct rst_ctx *c = &t->tasks[i];
		char path[64], buf[256], *p;
		bool dead = false;

		if (c->kind != RST_TASK_ZOMBIE)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", c->child);
		for (int tries = 0; !dead && tries < 500; tries++) {
			FILE *f = fopen(path, "re");

			if (f) {
				if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
					dead = p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
				fclose(f);
			}
			if (!dead)
				usleep(10 * 1000);
		}
		if (!dead) {
			pr_err("zombie %d did not end during restore", c->pid);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

/* Every live task through its memory, then caught at its sigreturn, one after the other. */
static int restore_tasks(struct rst_tree *t)
{
	int ret = 0;

	for (size_t i = 0; i < t->nr_tasks && !ret; i++)
		if (t->tasks[i].kind == RST_TASK_LIVE)
			ret = rst_wait_ready(&t->tasks[i]);
	if (!ret)
		ret = check_zombies(t);
	for (size_t i = 0; i < t->nr_tasks && !ret; i++)
		if (t->tasks[i].kind == RST_TASK_LIVE)
			ret = rst_finish_task(&t->tasks[i]);
	return ret;
}

/* Children first, so that a parent that runs already finds them in place. */
static int detach_all(struct rst_tree *t)
{
	for (size_t i = t->nr_tasks; i-- > 0;) {
		int ret = detach(&t->tasks[i]);

		if (ret)
			return ret;
	}
	return 0;
}

int rst_run(const struct rst_opts *opts, struct action_result *res)
{
	struct rst_tree t;
	struct rst_ctx *root = NULL;
	bool pidfile_written = false, resumed = false;
	double t0 = now_ms(), t_fork = 0, t_ready = 0;
	int ret;

	memset(&t, 0, sizeof(t));
	t.opts = *opts;
	err_ctx_reset();
	if (t.opts.restore_sibling && !t.opts.detached) {
		pr_err("--restore-sibling needs --restore-detached (-d)");
		return -EINVAL;
	}

	ret = rst_inherit_parse(&t);
	if (!ret)
		ret = notify_event(t.opts.o, "pre-restore", 0);
	if (!ret)
		ret = rst_images_read(&t);
	if (!ret)
		root = &t.tasks[0];
	if (!ret && rst_fault("images"))
		ret = -EIO;
	if (!ret)
		ret = run_hooks(root, CP_STAGE_RESTORE_INIT, 0);
	/* After RESTORE_INIT: the plugins' group() may need what they read there. */
	if (!ret)
		ret = rst_shared_plan(&t);
	if (!ret)
		ret = run_hooks(root, CP_STAGE_RESTORE_PRE_FORK, 0);
	if (!ret) {
		t_fork = now_ms();
		ret = rst_tree_start(&t);
	}
	if (!ret) {
		t_ready = now_ms();
		ret = restore_tasks(&t);
	}
	if (!ret && rst_fault("resume"))
		ret = -EIO;
	if (ret)
		goto fail;
	err_ctx_set_stage("resume");
	ret = notify_event(t.opts.o, "post-restore", root->child);
	if (!ret)
		ret = run_hooks(root, CP_STAGE_POST_RESTORE, 0);
	if (!ret && t.opts.pidfile) {
		ret = write_pidfile(root);
		pidfile_written = !ret;
		if (!ret && rst_fault("pidfile"))
			ret = -EIO;
	}
	if (!ret)
		ret = run_hooks(root, CP_STAGE_PRE_RESUME, 0);
	if (!ret && notify_event(t.opts.o, "pre-resume", root->child))
		pr_warn("pre-resume notification failed; resuming anyway");
	if (!ret && rst_fault("detach"))
		ret = -EIO;
	if (!ret)
		ret = detach_all(&t);
	if (ret)
		goto fail;
	resumed = true;
	res->restored_pid = root->child;
	pr_info("pid %d restored with %zu tasks in %.1f ms (images %.1f, fork %.1f, resume %.1f)",
		root->child, t.nr_tasks, now_ms() - t0, t_fork - t0, t_ready - t_fork,
		now_ms() - t_ready);
	run_hooks(root, CP_STAGE_POST_RESUME, 0);
	if (notify_event(t.opts.o, "post-resume", root->child))
		pr_warn("post-resume notification failed");
	write_stats(&t, t_ready - t_fork, now_ms() - t0);
	if (t.opts.o && opt_bool(t.opts.o, OPT_AUTO_DEDUP))
		punch_restored_pages(&t);
	close_channels(&t);
	if (!t.opts.detached)
		ret = wait_task(root, res);
	rst_images_free(&t);
	rst_inherit_free(&t);
	return ret;

fail:
	if (!resumed) {
		rst_tree_kill(&t);
		if (pidfile_written)
			unlink(t.opts.pidfile);
	}
	if (root)
		run_hooks(root, CP_STAGE_POST_RESUME, ret);
	close_channels(&t);
	rst_images_free(&t);
	rst_inherit_free(&t);
	return ret;
}

int action_restore(struct options *o, struct action_result *res)
{
	struct rst_opts opts;

	memset(&opts, 0, sizeof(opts));
	/*
	 * main() entered the work dir, which is the images dir unless
	 * --work-dir is given (then it made a relative images dir absolute).
	 */
	opts.images_dir = opt_str(o, OPT_IMAGES_DIR);
	if (!opts.images_dir || (opts.images_dir[0] != '/' && !opt_str(o, OPT_WORK_DIR)))
		opts.images_dir = ".";
	opts.detached = opt_bool(o, OPT_RESTORE_DETACHED);
	opts.leave_stopped = opt_bool(o, OPT_LEAVE_STOPPED);
	opts.restore_sibling = opt_bool(o, OPT_RESTORE_SIBLING);
	opts.shell_job = opt_bool(o, OPT_SHELL_JOB);
	opts.pidfile = opt_str(o, OPT_PIDFILE);
	opts.o = o;
	return rst_run(&opts, res);
}
