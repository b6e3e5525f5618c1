// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The criu command line, run for real: messages and exit codes of bad
 * options, --help, --version, --show-config, GNU getopt behaviour, the
 * deprecated actions and options, the post-parse checks, and the failure
 * summary.
 */
#include "options-tap.h"

#include "options/options.h"

#define RUN(r, ...)                                         \
	do {                                                \
		const char *args_[] = { __VA_ARGS__, NULL }; \
		tap_run_criu(r, args_);                     \
	} while (0)

/* Expect exit STATUS and exactly ERR on stderr (NULL: don't care). */
static void expect_run(const struct criu_run *r, int status, const char *err)
{
	CHECK_EQ(r->status, status);
	if (err)
		CHECK_STR(r->err, err);
}

static void t_unknown_option(void)
{
	struct criu_run r;

	RUN(&r, "dump", "--tcp-establised");
	expect_run(&r, 1, "criu: unknown option '--tcp-establised' (did you mean '--tcp-established'?)\n");
	tap_run_free(&r);
	RUN(&r, "--foo", "dump");
	expect_run(&r, 1, "criu: unknown option '--foo'\n");
	tap_run_free(&r);
	RUN(&r, "--no-tcp-estabished", "dump");
	expect_run(&r, 1, "criu: unknown option '--no-tcp-estabished' (did you mean '--no-tcp-established'?)\n");
	tap_run_free(&r);
	RUN(&r, "-q", "dump");
	expect_run(&r, 1, "criu: unknown option '-q'\n");
	tap_run_free(&r);
	/* Obsolete in the seed. */
	RUN(&r, "dump", "--namespaces", "x");
	expect_run(&r, 1, "criu: unknown option '--namespaces'\n");
	tap_run_free(&r);
	RUN(&r, "dump", "--contents");
	expect_run(&r, 1, NULL);
	tap_run_free(&r);
	RUN(&r, "dump", "--file");
	expect_run(&r, 1, "criu: option '--file' is ambiguous; possibilities: '--file-locks' '--file-validation'\n");
	tap_run_free(&r);
}

static void t_argument_errors(void)
{
	struct criu_run r;

	RUN(&r, "dump", "--tree");
	expect_run(&r, 1, "criu: option '--tree' requires an argument\n");
	tap_run_free(&r);
	RUN(&r, "dump", "-t");
	expect_run(&r, 1, "criu: option '-t' requires an argument\n");
	tap_run_free(&r);
	RUN(&r, "dump", "-t", "1", "--leave-running=yes");
	expect_run(&r, 1, "criu: option '--leave-running' doesn't allow an argument\n");
	tap_run_free(&r);
	RUN(&r, "dump", "-t", "abc");
	expect_run(&r, 1, "criu: option '-t': invalid value 'abc' (expected an integer >= 1)\n");
	tap_run_free(&r);
	RUN(&r, "dump", "-t", "1", "--ms");
	expect_run(&r, 1, "criu: --ms is deprecated\n");
	tap_run_free(&r);
}

static void t_help_lists_every_option(void)
{
	struct criu_run r;

	RUN(&r, "--help");
	expect_run(&r, 0, "");
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);
		char name[96];

		if (d->flags & OF_PLUGINS)
			continue;
		snprintf(name, sizeof(name), d->type == OT_BOOL ? "--[no-]%s" : "--%s", d->name);
		if (!strstr(r.out, name)) {
			printf("#   --help does not list %s\n", name);
			tap_failed = 1;
		}
	}
	CHECK(strstr(r.out, "  -t, --tree PID") != NULL);
	CHECK(strstr(r.out, "  cpuinfo check") != NULL);
	tap_run_free(&r);
	RUN(&r, "-h");
	expect_run(&r, 0, "");
	tap_run_free(&r);
}

static void t_action_help_lists_its_options(void)
{
	struct criu_run r;

	RUN(&r, "dump", "--help");
	expect_run(&r, 0, "");
	CHECK(strstr(r.out, "Usage: criu dump") != NULL);
	CHECK(strstr(r.out, "--tree PID") != NULL);
	CHECK(strstr(r.out, "--[no-]tcp-established") != NULL);
	CHECK(strstr(r.out, "--feature") == NULL);
	CHECK(strstr(r.out, "--restore-sibling") == NULL);
	tap_run_free(&r);
	RUN(&r, "--help", "check");
	CHECK(strstr(r.out, "--feature NAME") != NULL);
	CHECK(strstr(r.out, "--tree") == NULL);
	tap_run_free(&r);
	/* Help comes before the config files, so a broken one doesn't hide it. */
	setenv("CRIU_CONFIG_FILE", tap_write("broken.conf", "nonsense\n"), 1);
	RUN(&r, "restore", "-h");
	expect_run(&r, 0, "");
	CHECK(strstr(r.out, "--[no-]restore-sibling") != NULL);
	tap_run_free(&r);
}

static void t_version(void)
{
	struct criu_run r;

	RUN(&r, "--version");
	expect_run(&r, 0, "");
	CHECK(!strncmp(r.out, "Version: 4.2\n", 13));
	CHECK(strstr(r.out, "GitID: ") != NULL);
	tap_run_free(&r);
	RUN(&r, "-V");
	expect_run(&r, 0, "");
	CHECK(!strncmp(r.out, "Version: 4.2\n", 13));
	tap_run_free(&r);
}

static void t_commands(void)
{
	struct criu_run r;

	RUN(&r, "--log-pid");
	expect_run(&r, 1, NULL);
	CHECK(strstr(r.err, "Usage:") != NULL);
	tap_run_free(&r);
	RUN(&r, "dupm");
	expect_run(&r, 1, "criu: unknown command 'dupm' (did you mean 'dump'?)\n");
	tap_run_free(&r);
	RUN(&r, "frobnicate");
	expect_run(&r, 1, "criu: unknown command 'frobnicate'\n");
	tap_run_free(&r);
	RUN(&r, "cpuinfo");
	expect_run(&r, 1, "criu: cpuinfo requires an action: dump or check\n");
	tap_run_free(&r);
	RUN(&r, "swrk");
	expect_run(&r, 1, "Usage: criu swrk <fd>\n");
	tap_run_free(&r);
	RUN(&r, "swrk", "3", "4");
	expect_run(&r, 1, "Usage: criu swrk <fd>\n");
	tap_run_free(&r);
	RUN(&r, "show");
	expect_run(&r, 1, NULL);
	CHECK(strstr(r.err, "crit decode") != NULL);
	tap_run_free(&r);
	RUN(&r, "exec");
	expect_run(&r, 1, NULL);
	CHECK(strstr(r.err, "Compel") != NULL);
	tap_run_free(&r);
	RUN(&r, "check", "extra-word");
	expect_run(&r, 1, "criu: excessive parameter 'extra-word'\n");
	tap_run_free(&r);
}

/* GNU getopt behaviour, seen through --show-config. */
static void t_getopt_behaviour(void)
{
	struct criu_run r;

	RUN(&r, "--tcp-est", "dump", "-t1", "--show-config", "-vvv", "--pid", "/p", "-jl", "-x", "--ghost-limit=2M",
	    "--no-ghost-fiemap", "--cpu-cap", "--manage-cgroups");
	expect_run(&r, 0, "");
	CHECK(strstr(r.out, "\ntcp-established = true ") != NULL);
	CHECK(strstr(r.out, "\ntree = 1 ") != NULL);
	CHECK(strstr(r.out, "\nverbosity = 5 ") != NULL);
	CHECK(strstr(r.out, "\npidfile = /p ") != NULL);
	CHECK(strstr(r.out, "\nshell-job = true ") != NULL);
	CHECK(strstr(r.out, "\nfile-locks = true ") != NULL);
	CHECK(strstr(r.out, "\next-unix-sk = true ") != NULL);
	CHECK(strstr(r.out, "\nghost-limit = 2M ") != NULL);
	CHECK(strstr(r.out, "\nghost-fiemap = false ") != NULL);
	CHECK(strstr(r.out, "\ncpu-cap = all ") != NULL);
	CHECK(strstr(r.out, "\nmanage-cgroups = soft ") != NULL);
	tap_run_free(&r);
	/* An optional argument is taken only when attached. */
	RUN(&r, "--show-config", "-v4", "--cpu-cap=^fpu", "dump");
	expect_run(&r, 0, "");
	CHECK(strstr(r.out, "\nverbosity = 4 ") != NULL);
	CHECK(strstr(r.out, "\ncpu-cap = none,ins ") != NULL);
	tap_run_free(&r);
	RUN(&r, "--show-config", "-v", "4");
	expect_run(&r, 1, "criu: unknown command '4'\n");
	tap_run_free(&r);
	/* -- ends the options. */
	RUN(&r, "dump", "-t", "1", "--show-config", "--", "-t");
	expect_run(&r, 1, "criu: excessive parameter '-t'\n");
	tap_run_free(&r);
	/* -d is both restore-detached and daemon. */
	RUN(&r, "restore", "-d", "--show-config");
	CHECK(strstr(r.out, "\nrestore-detached = true ") != NULL);
	CHECK(strstr(r.out, "\ndaemon = true ") != NULL);
	tap_run_free(&r);
	/* --close is accepted. */
	RUN(&r, "--close", "99", "--show-config");
	expect_run(&r, 0, "");
	CHECK(strstr(r.out, "\nclose = 99 ") != NULL);
	tap_run_free(&r);
}

static void t_show_config_origins(void)
{
	char conf[512], want[1024];
	struct criu_run r;

	snprintf(conf, sizeof(conf), "%s", tap_write("etc/default.conf", "[global]\ntimeout = 3\n[dump]\nexternal = x\n"));
	setenv("CRIU_DEPRECATED", "1", 1);
	RUN(&r, "dump", "--show-config", "--root", "/r");
	expect_run(&r, 0, "");
	CHECK(strstr(r.out, "; criu effective configuration for 'dump'\n") != NULL);
	snprintf(want, sizeof(want), "; config files read: %s\n", conf);
	CHECK(strstr(r.out, want) != NULL);
	snprintf(want, sizeof(want), " ; %s:2\n", conf);
	CHECK(strstr(r.out, want) != NULL);
	snprintf(want, sizeof(want), " ; %s:4\n", conf);
	CHECK(strstr(r.out, want) != NULL);
	CHECK(strstr(r.out, "\ndeprecated = true ") != NULL);
	CHECK(strstr(r.out, " ; environment CRIU_DEPRECATED\n") != NULL);
	CHECK(strstr(r.out, "\nroot = /r ") != NULL);
	CHECK(strstr(r.out, " ; command line\n") != NULL);
	CHECK(strstr(r.out, "\nimages-dir = . ") != NULL);
	CHECK(strstr(r.out, " ; default\n") != NULL);
	tap_run_free(&r);
	/* A broken config file is reported with exit 1, even for --show-config. */
	tap_write("etc/default.conf", "[global]\ntimeout = never\n");
	RUN(&r, "--show-config");
	snprintf(want, sizeof(want), "%s:2: option 'timeout': invalid value 'never' (expected an integer >= 0)\n",
		 conf);
	expect_run(&r, 1, want);
	tap_run_free(&r);
}

static void t_post_parse_checks(void)
{
	struct criu_run r;

	RUN(&r, "dump");
	expect_run(&r, 1, "criu: dump: pid not specified (use -t PID)\n");
	tap_run_free(&r);
	RUN(&r, "restore", "--restore-sibling");
	expect_run(&r, 1, "criu: --restore-sibling only makes sense with --restore-detached\n");
	tap_run_free(&r);
	RUN(&r, "dump", "-t", "1", "--inherit-fd", "fd[3]:x");
	expect_run(&r, 1, "criu: --inherit-fd is a restore-only option\n");
	tap_run_free(&r);
	/* Restore checks --inherit-fd before it reads any image. */
	RUN(&r, "restore", "-D", "/", "--inherit-fd", "fd[x]:pipe:[1]");
	expect_run(&r, 1, NULL);
	CHECK(strstr(r.err, "--inherit-fd: bad value \"fd[x]:pipe:[1]\"") != NULL);
	tap_run_free(&r);
	RUN(&r, "restore", "-D", "/", "--inherit-fd", "fd[777]:pipe:[1]");
	expect_run(&r, 1, NULL);
	CHECK(strstr(r.err, "--inherit-fd fd[777]:pipe:[1]: fd 777 is not open in criu") != NULL);
	tap_run_free(&r);
	RUN(&r, "dump", "-t", "1", "--exec-cmd", "--", "true");
	expect_run(&r, 1, "criu: --exec-cmd is a restore-only option\n");
	tap_run_free(&r);
	RUN(&r, "restore", "--exec-cmd");
	expect_run(&r, 1, "criu: --exec-cmd needs a command after the options (criu restore --exec-cmd -- CMD ARGS)\n");
	tap_run_free(&r);
	RUN(&r, "restore", "-d", "--exec-cmd", "--", "true");
	expect_run(&r, 1, "criu: --exec-cmd can't be used with --restore-detached\n");
	tap_run_free(&r);
	RUN(&r, "page-server", "-d", "--ps-socket", "1");
	expect_run(&r, 1, "criu: --ps-socket 1 would be closed by --daemon; use an fd above 2\n");
	tap_run_free(&r);
	RUN(&r, "check", "--stream");
	expect_run(&r, 1, "criu: --stream is not supported by check\n");
	tap_run_free(&r);
	RUN(&r, "dump", "-t", "1", "--mntns-compat-mode");
	expect_run(&r, 1, "criu: --mntns-compat-mode is a restore-only option\n");
	tap_run_free(&r);
	RUN(&r, "pre-dump", "-t", "1", "--lazy-pages");
	expect_run(&r, 1, "criu: pre-dump doesn't support --lazy-pages\n");
	tap_run_free(&r);
}

static void t_failure_summary(void)
{
	struct criu_run r;

	RUN(&r, "dump", "-t", "1", "-W", "/nonexistent/dir");
	CHECK_EQ(r.status, 1);
	CHECK(strstr(r.err, "\ncriu: dump failed: Can't change directory to /nonexistent/dir: No such file or "
			    "directory\n") != NULL);
	tap_run_free(&r);
}

/* At -v4 the effective configuration opens the log. */
static void t_debug_log_has_config(void)
{
	char *log;
	struct criu_run r;

	mkdir(tap_path("work"), 0700);
	RUN(&r, "dump", "-t", "999999999", "-v4", "-o", "dump.log", "-W", tap_path("work"), "-L", tap_path("none"));
	CHECK_EQ(r.status, 1);
	log = tap_read_file(tap_path("work/dump.log"));
	CHECK(log != NULL);
	if (log) {
		CHECK(strstr(log, "; criu effective configuration for 'dump'") != NULL);
		CHECK(strstr(log, "tree = 999999999") != NULL);
	}
	free(log);
	tap_run_free(&r);
}

static const struct tap_test tests[] = {
	TAP_TEST(t_unknown_option),
	TAP_TEST(t_argument_errors),
	TAP_TEST(t_help_lists_every_option),
	TAP_TEST(t_action_help_lists_its_options),
	TAP_TEST(t_version),
	TAP_TEST(t_commands),
	TAP_TEST(t_getopt_behaviour),
	TAP_TEST(t_show_config_origins),
	TAP_TEST(t_post_parse_checks),
	TAP_TEST(t_failure_summary),
	TAP_TEST(t_debug_log_has_config),
};

TAP_MAIN(tests, &options_tap_opts)
