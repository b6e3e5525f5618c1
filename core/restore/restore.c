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
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
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

static void close_channels(struct rst_ctx *c)
{
	int *fds[] = { &c->report_rd, &c->report_wr, &c->go_rd, &c->go_wr };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/*
 * stats-restore and --display-stats, as CRIU has them. Pages are counted
 * from the pagemap: every present or parent page was put in place.
 */
static void write_stats(const struct rst_ctx *c, double forking_ms, double total_ms)
{
	RestoreStatsEntry rs = RESTORE_STATS_ENTRY__INIT;
	StatsEntry st = STATS_ENTRY__INIT;
	struct image *img;
	uint64_t pages = 0;

	for (size_t i = 0; i < c->nr_pm; i++)
		pages += c->pm[i]->has_nr_pages ? c->pm[i]->nr_pages : c->pm[i]->compat_nr_pages;
	rs.forking_time = (uint32_t)(forking_ms * 1000);
	rs.restore_time = (uint32_t)(total_ms * 1000);
	rs.has_pages_restored = true;
	rs.pages_restored = pages;
	st.restore = &rs;
	/* The stats are for people; failing to write them fails nothing. */
	if (!img_open_write(c->dir, "stats-restore", STATS_MAGIC, &img)) {
		if (img_write_msg(img, &st.base))
			pr_warn("Can't write stats-restore");
		img_close(img);
	}
	if (c->opts.o && opt_bool(c->opts.o, OPT_DISPLAY_STATS)) {
		pr_msg("Displaying restore stats:\n");
		pr_msg("Pages compared: %llu (0x%llx)\n", 0ULL, 0ULL);
		pr_msg("Pages skipped COW: %llu (0x%llx)\n", 0ULL, 0ULL);
		pr_msg("Pages restored: %llu (0x%llx)\n", (unsigned long long)pages, (unsigned long long)pages);
		pr_msg("Restore time: %u us\n", rs.restore_time);
		pr_msg("Forking time: %u us\n", rs.forking_time);
	}
}

int rst_run(const struct rst_opts *opts, struct action_result *res)
{
	struct rst_ctx c;
	bool pidfile_written = false, resumed = false;
	double t0 = now_ms(), t_fork = 0, t_ready = 0;
	int ret;

	memset(&c, 0, sizeof(c));
	c.opts = *opts;
	c.report_rd = c.report_wr = c.go_rd = c.go_wr = -1;
	err_ctx_reset();
	if (c.opts.restore_sibling && !c.opts.detached) {
		pr_err("--restore-sibling needs --restore-detached (-d)");
		return -EINVAL;
	}

	ret = notify_event(c.opts.o, "pre-restore", 0);
	if (!ret)
		ret = rst_images_read(&c);
	if (!ret && rst_fault("images"))
		ret = -EIO;
	if (!ret)
		ret = run_hooks(&c, CP_STAGE_RESTORE_INIT, 0);
	if (!ret)
		ret = run_hooks(&c, CP_STAGE_RESTORE_PRE_FORK, 0);
	if (!ret) {
		t_fork = now_ms();
		ret = rst_fork(&c);
	}
	if (!ret)
		ret = rst_wait_ready(&c);
	if (!ret) {
		t_ready = now_ms();
		ret = rst_finish_task(&c);
	}
	if (!ret && rst_fault("resume"))
		ret = -EIO;
	if (ret)
		goto fail;
	err_ctx_set_stage("resume");
	ret = notify_event(c.opts.o, "post-restore", c.child);
	if (!ret)
		ret = run_hooks(&c, CP_STAGE_POST_RESTORE, 0);
	if (!ret && c.opts.pidfile) {
		ret = write_pidfile(&c);
		pidfile_written = !ret;
		if (!ret && rst_fault("pidfile"))
			ret = -EIO;
	}
	if (!ret)
		ret = run_hooks(&c, CP_STAGE_PRE_RESUME, 0);
	if (!ret && notify_event(c.opts.o, "pre-resume", c.child))
		pr_warn("pre-resume notification failed; resuming anyway");
	if (!ret && rst_fault("detach"))
		ret = -EIO;
	if (!ret)
		ret = detach(&c);
	if (ret)
		goto fail;
	resumed = true;
	res->restored_pid = c.child;
	pr_info("pid %d restored in %.1f ms (images %.1f, memory %.1f, resume %.1f)", c.child,
		now_ms() - t0, t_fork - t0, t_ready - t_fork, now_ms() - t_ready);
	run_hooks(&c, CP_STAGE_POST_RESUME, 0);
	if (notify_event(c.opts.o, "post-resume", c.child))
		pr_warn("post-resume notification failed");
	write_stats(&c, t_fork - t0, now_ms() - t0);
	close_channels(&c);
	if (!c.opts.detached)
		ret = wait_task(&c, res);
	rst_images_free(&c);
	return ret;

fail:
	if (!resumed) {
		rst_kill_child(&c);
		if (pidfile_written)
			unlink(c.opts.pidfile);
	}
	run_hooks(&c, CP_STAGE_POST_RESUME, ret);
	close_channels(&c);
	rst_images_free(&c);
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
