// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The criu command: parse the options, set up the work dir and the log,
 * load the plugins the action needs, run the action, and on failure end
 * with one line that says what went wrong first.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>

#include "actions.h"
#include "log/log.h"
#include "options/options.h"
#include "plugins/plugins.h"

static void print_version(void)
{
	/* Scripts parse CRIU's first line; ours follow it. */
	printf("Version: %d.%d\n", CRIU_COMPAT_MAJOR, CRIU_COMPAT_MINOR);
	printf("Implementation: %s %s (plugin edition)\n", PACKAGE_NAME, PACKAGE_VERSION);
	printf("GitID: %s\n", CRIU_GITID);
}

/* exec and show are gone from CRIU; say what replaced them. */
static int deprecated_action(enum action act)
{
	if (act == ACT_EXEC)
		fprintf(stderr, "criu: the \"exec\" action is deprecated; the Compel library replaces it\n");
	else
		fprintf(stderr, "criu: the \"show\" action is deprecated; use \"crit decode -i IMAGE --pretty\"\n");
	return 1;
}

/* --close FD, CRIU's hidden option: close the fds before anything else. */
static void close_requested_fds(const struct options *o)
{
	for (size_t i = 0; i < opt_list_len(o, OPT_CLOSE); i++)
		close(atoi(opt_list_at(o, OPT_CLOSE, i)));
}

/*
 * criu works in the work dir (default: the images dir). A relative
 * images dir is made absolute first, so it still names the same place
 * after the chdir.
 */
/*
 * Make a path option that is relative to the caller's directory absolute;
 * each part of a ':'-separated list (libdir may name several dirs).
 */
static int absolutize_path(struct options *o, enum opt_id id)
{
	const char *path = opt_str(o, id), *part, *end;
	struct opt_origin org;
	char cwd[PATH_MAX];
	char *abs = NULL;
	size_t size = 0;
	FILE *out;
	int ret;

	if (!path || (path[0] == '/' && !strstr(path, ":")))
		return 0;
	if (!getcwd(cwd, sizeof(cwd))) {
		ret = -errno;
		pr_perror("Can't get the current directory");
		return ret;
	}
	out = open_memstream(&abs, &size);
	if (!out)
		return -ENOMEM;
	for (part = path; part; part = end ? end + 1 : NULL) {
		int len;

		end = strchr(part, ':');
		len = end ? (int)(end - part) : (int)strlen(part);
		fprintf(out, "%s%s%s%.*s", part == path ? "" : ":", part[0] == '/' || !len ? "" : cwd,
			part[0] == '/' || !len ? "" : "/", len, part);
	}
	if (fclose(out)) {
		free(abs);
		return -ENOMEM;
	}
	org = *opt_origin_get(o, id);
	ret = opt_set_str(o, id, abs, &org);
	free(abs);
	return ret;
}

/*
 * criu works from the work dir (default: the images dir), where logs and
 * pid files go, as CRIU does. The images dir and the plugin dir the user
 * named stay relative to where criu was started, so make them absolute
 * before moving.
 */
static int enter_work_dir(struct options *o)
{
	const char *work;
	int ret;

	ret = absolutize_path(o, OPT_IMAGES_DIR);
	if (!ret)
		ret = absolutize_path(o, OPT_LIBDIR);
	if (ret)
		return ret;
	work = opt_str(o, OPT_WORK_DIR);
	if (!work)
		work = opt_str(o, OPT_IMAGES_DIR);
	if (!work)
		return 0;
	if (chdir(work)) {
		ret = -errno;
		pr_perror("Can't change directory to %s", work);
		return ret;
	}
	return 0;
}

static int setup_log(const struct options *o)
{
	const char *file = opt_str(o, OPT_LOG_FILE);

	log_set_level((int)opt_int(o, OPT_VERBOSITY));
	if (!file)
		return 0;
	return log_open_file(file, opt_bool(o, OPT_LOG_PID));
}

/* `criu plugins` loads them itself, to report on each. */
static bool needs_plugins(enum action act)
{
	return act == ACT_DUMP || act == ACT_PRE_DUMP || act == ACT_RESTORE;
}

/* After a successful restore with --exec-cmd, become the command. */
static int exec_command(const struct options *o)
{
	size_t n = opt_list_len(o, OPT_EXEC_CMD);
	char **argv = calloc(n + 1, sizeof(*argv));
	int err;

	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)opt_list_at(o, OPT_EXEC_CMD, i);
	execvp(argv[0], argv);
	err = errno;
	pr_perror("Can't exec %s", argv[0]);
	free(argv);
	return -err;
}

static int run_action(struct options *o, const struct cmdline *cmd, struct action_result *res)
{
	switch (cmd->action) {
	case ACT_DUMP:
		return action_dump(o, res);
	case ACT_PRE_DUMP:
		return action_pre_dump(o, res);
	case ACT_RESTORE:
		return action_restore(o, res);
	case ACT_CHECK:
		return action_check(o, res);
	case ACT_CPUINFO_DUMP:
		return action_cpuinfo_dump(o, res);
	case ACT_CPUINFO_CHECK:
		return action_cpuinfo_check(o, res);
	case ACT_PAGE_SERVER:
		return action_page_server(o, res);
	case ACT_SERVICE:
		return action_service(o, res);
	case ACT_SWRK:
		return action_swrk(o, cmd->swrk_fd, res);
	case ACT_DEDUP:
		return action_dedup(o, res);
	case ACT_PLUGINS:
		return action_plugins(o, res);
	case ACT_LAZY_PAGES:
		pr_err("lazy-pages is not implemented yet");
		return -ENOSYS;
	default:
		pr_err("no action to run");
		return -EINVAL;
	}
}

int main(int argc, char **argv)
{
	struct action_result res = { .restored_pid = -1, .ps_pid = -1 };
	struct cmdline cmd;
	struct options *o = NULL;
	bool plugins_loaded = false;
	int ret, status = 1;

	/* criu talks over sockets and pipes; a gone peer is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	if (opts_parse_cmdline(argc, argv, &o, &cmd))
		return 1;
	if (cmd.help) {
		opts_print_help(stdout, cmd.action);
		status = 0;
		goto out;
	}
	if (cmd.version) {
		print_version();
		status = 0;
		goto out;
	}
	if (cmd.action == ACT_EXEC || cmd.action == ACT_SHOW) {
		status = deprecated_action(cmd.action);
		goto out;
	}
	if (cmd.show_config) {
		status = opts_show_config(o, stdout) ? 1 : 0;
		goto out;
	}

	close_requested_fds(o);
	if (cmd.action != ACT_SWRK) {
		ret = enter_work_dir(o);
		if (ret)
			goto failed;
	}
	ret = setup_log(o);
	if (ret)
		goto failed;
	opts_log_config(o);

	if (needs_plugins(cmd.action)) {
		ret = plugins_load(o);
		if (ret)
			goto failed;
		plugins_loaded = true;
	}
	ret = run_action(o, &cmd, &res);
	if (!ret && cmd.action == ACT_RESTORE && opt_bool(o, OPT_EXEC_CMD)) {
		if (plugins_loaded)
			plugins_unload();
		plugins_loaded = false;
		ret = exec_command(o);
	}
	if (ret)
		goto failed;
	status = 0;
	/* Without -d criu stayed the restored root's parent: pass on how it ended. */
	if (cmd.action == ACT_RESTORE && !opt_bool(o, OPT_RESTORE_DETACHED))
		status = res.exit_status;
	goto out;

failed:
	/*
	 * check prints its verdict ("Does not look good.") as its output; a
	 * missing feature is not an error of criu, so no summary line follows.
	 */
	if (cmd.action == ACT_CHECK && !err_first_summary())
		goto verdict;
	fprintf(stderr, "criu: %s failed: %s\n", opts_action_name(cmd.action),
		err_first_summary() ? err_first_summary() : strerror(ret < 0 ? -ret : ret));
	if (err_first_remedy())
		fprintf(stderr, "criu: hint: %s\n", err_first_remedy());
verdict:
	status = 1;
out:
	if (plugins_loaded)
		plugins_unload();
	log_close();
	opts_free(o);
	cmdline_free(&cmd);
	return status;
}
