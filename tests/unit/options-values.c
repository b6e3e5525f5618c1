// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The option table and the store: the table is consistent and complete
 * (CRIU 4.2's 85 long options plus ours), defaults, the value parser for
 * every type, the typed setters RPC uses, origins and plugin keys.
 */
#include "options-tap.h"

#include "log/log.h"
#include "options/options.h"

static const struct opt_origin cli = { .kind = OPT_ORIGIN_CLI };

static void t_table_is_consistent(void)
{
	int ours = 0, neg = 0, shorts = 0;

	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);

		CHECK_EQ(d->id, i);
		CHECK(d->name && d->name[0] && d->help && d->help[0]);
		CHECK(d->actions != 0);
		CHECK(d->rpc_field >= 0 && d->rpc_field <= 71 && d->rpc_field != 40);
		CHECK(opt_find(d->name) == d);
		if (d->flags & OF_OPTARG)
			CHECK(d->type == OT_COUNTER || d->type == OT_CPUCAP || d->type == OT_OPTLIST ||
			      d->type == OT_ENUM);
		if (d->type == OT_ENUM)
			CHECK(d->values != NULL);
		if (d->type == OT_BOOL)
			neg++;
		if (d->short_name) {
			shorts++;
			for (int j = 0; j < i; j++)
				if (opt_desc_get(j)->short_name == d->short_name)
					/* only -d is shared: restore-detached and daemon */
					CHECK(d->short_name == 'd');
		}
		if (i >= OPT_SHOW_CONFIG)
			ours++;
		for (int j = 0; j < i; j++)
			CHECK(strcmp(opt_desc_get(j)->name, d->name));
	}
	CHECK_EQ(OPT__COUNT - ours, 85);
	CHECK_EQ(neg, 27);
	/* CRIU's 18 letters (with d twice) plus our -c. */
	CHECK_EQ(shorts, 18 + 1 + 1);
	CHECK(opt_find("no-such-option") == NULL);
	CHECK(opt_find_rpc(2) == opt_desc_get(OPT_TREE));
	CHECK(opt_find_rpc(40) == NULL);
	CHECK_STR(opts_action_name(ACT_CPUINFO_CHECK), "cpuinfo check");
}

/* Every row of the seed's option table is in ours (or obsolete by design). */
static void t_seed_rows_present(void)
{
	static const char *const seed[] = {
		"tree", "leave-stopped", "leave-running", "restore-detached", "restore-sibling", "daemon",
		"images-dir", "work-dir", "log-file", "root", "ext-unix-sk", "tcp-established", "log-pid",
		"evasive-devices", "veth-pair", "action-script", "link-remap", "shell-job", "file-locks",
		"page-server", "address", "port", "pidfile", "prev-images-dir", "ms", "feature", "track-mem",
		"auto-dedup", "libdir", "cpu-cap", "force-irmap", "exec-cmd", "manage-cgroups", "cgroup-root",
		"inherit-fd", "skip-mnt", "ext-mount-map", "enable-fs", "enable-external-sharing",
		"enable-external-masters", "network-lock", "help", "version", "close",
	};

	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		if (!opt_find(seed[i]))
			printf("#   missing seed option %s\n", seed[i]);
		CHECK(opt_find(seed[i]) != NULL);
	}
	/* Obsoleted in the seed: not options any more. */
	CHECK(opt_find("namespaces") == NULL);
	CHECK(opt_find("pid") == NULL);
	CHECK(opt_find("contents") == NULL);
}

static void t_defaults(void)
{
	struct options *o = opts_new();

	CHECK(o != NULL);
	CHECK_EQ(opt_int(o, OPT_VERBOSITY), 2);
	CHECK_STR(opt_str(o, OPT_IMAGES_DIR), ".");
	CHECK_EQ(opt_int(o, OPT_TIMEOUT), 10);
	CHECK_EQ(opt_int(o, OPT_GHOST_LIMIT), 1 << 20);
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_FPU | OPT_CPU_CAP_INS);
	CHECK_STR(opt_str(o, OPT_MANAGE_CGROUPS), "soft");
	CHECK_EQ(opt_int(o, OPT_MANAGE_CGROUPS), 3); /* criu_cg_mode SOFT */
	CHECK_STR(opt_str(o, OPT_PRE_DUMP_MODE), "splice");
	CHECK_STR(opt_str(o, OPT_NETWORK_LOCK), "iptables");
	CHECK_STR(opt_str(o, OPT_FILE_VALIDATION), "buildid");
	CHECK(opt_bool(o, OPT_GHOST_FIEMAP));
	CHECK(!opt_bool(o, OPT_TCP_ESTABLISHED));
	CHECK(opt_str(o, OPT_LOG_FILE) == NULL);
	CHECK(opt_str(o, OPT_EMPTY_NS) == NULL);
	CHECK_EQ(opt_list_len(o, OPT_EXTERNAL), 0);
	for (int i = 0; i < OPT__COUNT; i++)
		CHECK(!opt_is_set(o, i));
	CHECK_EQ(opt_origin_get(o, OPT_TIMEOUT)->kind, OPT_ORIGIN_DEFAULT);
	opts_free(o);
}

/* Set one value; expect success (want 0) or failure. */
static int set(struct options *o, enum opt_id id, const char *text)
{
	return opt_set_text(o, id, text, &cli);
}

static void t_parse_booleans_and_integers(void)
{
	struct options *o = opts_new();
	static const char *const yes[] = { "true", "YES", "on", "1" };
	static const char *const no[] = { "false", "No", "off", "0" };

	log_set_fd(open("/dev/null", O_WRONLY));
	for (size_t i = 0; i < 4; i++) {
		CHECK_EQ(set(o, OPT_TCP_ESTABLISHED, yes[i]), 0);
		CHECK(opt_bool(o, OPT_TCP_ESTABLISHED));
		CHECK_EQ(set(o, OPT_TCP_ESTABLISHED, no[i]), 0);
		CHECK(!opt_bool(o, OPT_TCP_ESTABLISHED));
	}
	CHECK_EQ(set(o, OPT_TCP_ESTABLISHED, NULL), 0);
	CHECK(opt_bool(o, OPT_TCP_ESTABLISHED));
	CHECK_EQ(set(o, OPT_TCP_ESTABLISHED, "maybe"), -EINVAL);
	CHECK_EQ(set(o, OPT_TCP_ESTABLISHED, ""), -EINVAL);

	CHECK_EQ(set(o, OPT_TREE, "42"), 0);
	CHECK_EQ(opt_int(o, OPT_TREE), 42);
	CHECK(opt_is_set(o, OPT_TREE));
	CHECK_EQ(set(o, OPT_TREE, "0"), -EINVAL);
	CHECK_EQ(set(o, OPT_TREE, "12x"), -EINVAL);
	CHECK_EQ(set(o, OPT_TREE, NULL), -EINVAL);
	CHECK_EQ(opt_int(o, OPT_TREE), 42);
	CHECK_EQ(set(o, OPT_PORT, "65535"), 0);
	CHECK_EQ(set(o, OPT_PORT, "65536"), -EINVAL);
	CHECK_EQ(set(o, OPT_PORT, "-1"), -EINVAL);
	/* 0: page-server picks a free port. */
	CHECK_EQ(set(o, OPT_PORT, "0"), 0);
	CHECK_EQ(set(o, OPT_TIMEOUT, "-1"), -EINVAL);
	CHECK_EQ(set(o, OPT_TIMEOUT, "99999999999999999999"), -EINVAL);

	CHECK_EQ(set(o, OPT_GHOST_LIMIT, "512K"), 0);
	CHECK_EQ(opt_int(o, OPT_GHOST_LIMIT), 512 << 10);
	CHECK_EQ(set(o, OPT_GHOST_LIMIT, "2g"), 0);
	CHECK_EQ(opt_int(o, OPT_GHOST_LIMIT), 2LL << 30);
	CHECK_EQ(set(o, OPT_GHOST_LIMIT, "100"), 0);
	CHECK_EQ(opt_int(o, OPT_GHOST_LIMIT), 100);
	CHECK_EQ(set(o, OPT_GHOST_LIMIT, "1T"), -EINVAL);
	CHECK_EQ(set(o, OPT_GHOST_LIMIT, "M"), -EINVAL);
	opts_free(o);
}

static void t_parse_enums_counters_caps(void)
{
	struct options *o = opts_new();

	log_set_fd(open("/dev/null", O_WRONLY));
	CHECK_EQ(set(o, OPT_NETWORK_LOCK, "none"), 0);
	CHECK_STR(opt_str(o, OPT_NETWORK_LOCK), "skip"); /* an alias */
	CHECK_EQ(opt_int(o, OPT_NETWORK_LOCK), 2);
	CHECK_EQ(set(o, OPT_NETWORK_LOCK, "nft"), -EINVAL);
	CHECK_EQ(set(o, OPT_MANAGE_CGROUPS, NULL), 0); /* bare: soft */
	CHECK_STR(opt_str(o, OPT_MANAGE_CGROUPS), "soft");
	CHECK_EQ(set(o, OPT_MANAGE_CGROUPS, "ignore"), 0);
	CHECK_EQ(opt_int(o, OPT_MANAGE_CGROUPS), 0);
	CHECK_EQ(set(o, OPT_PRE_DUMP_MODE, NULL), -EINVAL);
	CHECK_EQ(set(o, OPT_EMPTY_NS, "net"), 0);
	CHECK_EQ(set(o, OPT_EMPTY_NS, "pid"), -EINVAL);

	CHECK_EQ(set(o, OPT_VERBOSITY, NULL), 0);
	CHECK_EQ(opt_int(o, OPT_VERBOSITY), 3);
	CHECK_EQ(set(o, OPT_VERBOSITY, "0"), 0);
	CHECK_EQ(set(o, OPT_VERBOSITY, "vv"), 0); /* -vvv */
	CHECK_EQ(opt_int(o, OPT_VERBOSITY), 3);
	CHECK_EQ(set(o, OPT_VERBOSITY, "4"), 0);
	CHECK_EQ(opt_int(o, OPT_VERBOSITY), 4);
	CHECK_EQ(set(o, OPT_VERBOSITY, "x"), -EINVAL);

	/* cpu-cap applies on top of what is there, as in CRIU. */
	CHECK_EQ(set(o, OPT_CPU_CAP, "cpu"), 0);
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_ALL);
	CHECK_EQ(set(o, OPT_CPU_CAP, "^ins"), 0);
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_FPU | OPT_CPU_CAP_CPU);
	CHECK_EQ(set(o, OPT_CPU_CAP, "none,fpu"), 0);
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_FPU);
	CHECK_EQ(set(o, OPT_CPU_CAP, "^none"), 0);
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_ALL);
	CHECK_EQ(set(o, OPT_CPU_CAP, "none"), 0);
	CHECK_EQ(set(o, OPT_CPU_CAP, NULL), 0); /* bare: all */
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_ALL);
	CHECK_EQ(set(o, OPT_CPU_CAP, "gpu"), -EINVAL);
	opts_free(o);
}

static void t_parse_lists(void)
{
	struct options *o = opts_new();

	log_set_fd(open("/dev/null", O_WRONLY));
	CHECK_EQ(set(o, OPT_EXTERNAL, "mnt[]:sm"), 0);
	CHECK_EQ(set(o, OPT_EXTERNAL, "a,b"), 0); /* no comma split for external */
	CHECK_EQ(opt_list_len(o, OPT_EXTERNAL), 2);
	CHECK_STR(opt_list_at(o, OPT_EXTERNAL, 1), "a,b");
	CHECK(opt_list_at(o, OPT_EXTERNAL, 2) == NULL);
	CHECK_EQ(set(o, OPT_EXTERNAL, NULL), -EINVAL);

	CHECK_EQ(set(o, OPT_ENABLE_FS, "proc,sysfs"), 0);
	CHECK_EQ(opt_list_len(o, OPT_ENABLE_FS), 2);
	CHECK_STR(opt_list_at(o, OPT_ENABLE_FS, 1), "sysfs");
	CHECK_EQ(set(o, OPT_ENABLE_FS, "a,,b"), -EINVAL);
	CHECK_EQ(opt_list_len(o, OPT_ENABLE_FS), 2); /* nothing half-added */

	CHECK(!opt_bool(o, OPT_EXT_UNIX_SK));
	CHECK_EQ(set(o, OPT_EXT_UNIX_SK, NULL), 0);
	CHECK(opt_bool(o, OPT_EXT_UNIX_SK));
	CHECK_EQ(opt_list_len(o, OPT_EXT_UNIX_SK), 0);
	CHECK_EQ(set(o, OPT_EXT_UNIX_SK, "12,34"), 0);
	CHECK_EQ(opt_list_len(o, OPT_EXT_UNIX_SK), 2);
	CHECK_EQ(set(o, OPT_EXT_UNIX_SK, "12,x"), -EINVAL);
	CHECK_EQ(opt_list_len(o, OPT_EXT_UNIX_SK), 2);
	CHECK_EQ(set(o, OPT_EXT_UNIX_SK, "false"), 0);
	CHECK(!opt_bool(o, OPT_EXT_UNIX_SK));
	CHECK_EQ(opt_list_len(o, OPT_EXT_UNIX_SK), 0);

	CHECK_EQ(set(o, OPT_CLOSE, "7"), 0);
	CHECK_EQ(set(o, OPT_CLOSE, "-1"), -EINVAL);
	CHECK_EQ(set(o, OPT_EXEC_CMD, "ls -l"), 0); /* one word per value */
	CHECK(opt_bool(o, OPT_EXEC_CMD));
	CHECK_STR(opt_list_at(o, OPT_EXEC_CMD, 0), "ls -l");
	opts_free(o);
}

static void t_typed_setters(void)
{
	static const struct opt_origin rpc = { .kind = OPT_ORIGIN_RPC };
	struct options *o = opts_new();

	log_set_fd(open("/dev/null", O_WRONLY));
	CHECK_EQ(opt_set_int(o, OPT_CPU_CAP, OPT_CPU_CAP_CPU, &rpc), 0);
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_CPU); /* absolute */
	CHECK_EQ(opt_set_int(o, OPT_MANAGE_CGROUPS, 5, &rpc), 0);
	CHECK_STR(opt_str(o, OPT_MANAGE_CGROUPS), "strict");
	CHECK_EQ(opt_set_int(o, OPT_MANAGE_CGROUPS, 6, &rpc), -EINVAL);
	CHECK_EQ(opt_set_int(o, OPT_PRE_DUMP_MODE, 1, &rpc), 0);
	CHECK_STR(opt_str(o, OPT_PRE_DUMP_MODE), "read");
	CHECK_EQ(opt_set_int(o, OPT_TREE, 7, &rpc), 0);
	CHECK_EQ(opt_int(o, OPT_TREE), 7);
	CHECK_EQ(opt_set_bool(o, OPT_SHELL_JOB, true, &rpc), 0);
	CHECK(opt_bool(o, OPT_SHELL_JOB));
	CHECK_EQ(opt_set_str(o, OPT_ROOT, "/r", &rpc), 0);
	CHECK_STR(opt_str(o, OPT_ROOT), "/r");
	CHECK_EQ(opt_set_str(o, OPT_TREE, "1", &rpc), -EINVAL); /* not a string option */
	CHECK_EQ(opt_list_add(o, OPT_ENABLE_FS, "a,b", &rpc), 0); /* as is */
	CHECK_EQ(opt_list_len(o, OPT_ENABLE_FS), 1);
	CHECK_EQ(opt_list_add(o, OPT_EXT_UNIX_SK, "9", &rpc), 0);
	CHECK(opt_bool(o, OPT_EXT_UNIX_SK));
	CHECK_EQ(opt_list_add(o, OPT_ROOT, "x", &rpc), -EINVAL);
	CHECK_EQ(opt_origin_get(o, OPT_ROOT)->kind, OPT_ORIGIN_RPC);

	/* -d: restore-detached and daemon are one flag in CRIU. */
	CHECK_EQ(opt_set_bool(o, OPT_DAEMON, true, &rpc), 0);
	CHECK(opt_bool(o, OPT_RESTORE_DETACHED));
	CHECK(opt_is_set(o, OPT_RESTORE_DETACHED));
	CHECK_EQ(set(o, OPT_RESTORE_DETACHED, "false"), 0);
	CHECK(!opt_bool(o, OPT_DAEMON));
	opts_free(o);
}

static void t_origins_are_copied(void)
{
	struct options *o = opts_new();
	char name[64] = "/tmp/some.conf";
	struct opt_origin org = { .kind = OPT_ORIGIN_FILE, .file = name, .line = 12 };
	const struct opt_plugin_kv *kv;
	size_t n;

	CHECK_EQ(opt_set_text(o, OPT_ROOT, "/x", &org), 0);
	CHECK_EQ(opt_set_text(o, OPT_EXTERNAL, "a", &org), 0);
	org.line = 13;
	CHECK_EQ(opts_plugin_kv_add(o, "files", "key", "value", &org), 0);
	/* The caller's string may go away. */
	strcpy(name, "changed");
	CHECK_STR(opt_origin_get(o, OPT_ROOT)->file, "/tmp/some.conf");
	CHECK_EQ(opt_origin_get(o, OPT_ROOT)->line, 12);
	CHECK_STR(opt_list_origin(o, OPT_EXTERNAL, 0)->file, "/tmp/some.conf");
	kv = opts_plugin_kvs(o, &n);
	CHECK_EQ(n, 1);
	CHECK_STR(kv[0].plugin, "files");
	CHECK_STR(kv[0].key, "key");
	CHECK_STR(kv[0].value, "value");
	CHECK_STR(kv[0].origin.file, "/tmp/some.conf");
	CHECK_EQ(kv[0].origin.line, 13);
	opts_free(o);
}

static void t_show_config_text(void)
{
	static const struct opt_origin env = { .kind = OPT_ORIGIN_ENV, .file = "CRIU_DEPRECATED" };
	struct opt_origin file = { .kind = OPT_ORIGIN_FILE, .file = "/etc/x.conf", .line = 3 };
	struct options *o = opts_new();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	opts_set_action(o, ACT_DUMP);
	CHECK_EQ(set(o, OPT_TREE, "5"), 0);
	CHECK_EQ(opt_set_text(o, OPT_DEPRECATED, "true", &env), 0);
	CHECK_EQ(opt_set_text(o, OPT_TIMEOUT, "20", &file), 0);
	CHECK_EQ(opt_set_text(o, OPT_CPU_CAP, "^ins", &file), 0);
	CHECK_EQ(opt_set_text(o, OPT_ENABLE, "files,tcp", &file), 0);
	CHECK_EQ(opts_plugin_kv_add(o, "tcp", "mode", "fast", &file), 0);
	CHECK_EQ(opts_show_config(o, f), 0);
	fclose(f);
	CHECK(strstr(text, "; criu effective configuration for 'dump'\n") != NULL);
	CHECK(strstr(text, "\n[global]\n") != NULL);
	CHECK(strstr(text, "\ntree = 5 ") != NULL);
	CHECK(strstr(text, " ; command line\n") != NULL);
	CHECK(strstr(text, " ; environment CRIU_DEPRECATED\n") != NULL);
	CHECK(strstr(text, "\ntimeout = 20 ") != NULL);
	CHECK(strstr(text, " ; /etc/x.conf:3\n") != NULL);
	CHECK(strstr(text, "\ncpu-cap = none,fpu ") != NULL);
	CHECK(strstr(text, "\nghost-limit = 1M ") != NULL);
	CHECK(strstr(text, "\n; log-file (not set)\n") != NULL);
	CHECK(strstr(text, "\n; external (empty)\n") != NULL);
	CHECK(strstr(text, "\n[plugins]\nenable = files ") != NULL);
	CHECK(strstr(text, "\nenable = tcp ") != NULL);
	CHECK(strstr(text, "\n[plugin.tcp]\nmode = fast ") != NULL);
	/* Command line only options are not configuration. */
	CHECK(strstr(text, "help") == NULL);
	CHECK(strstr(text, "show-config") == NULL);
	if (tap_failed)
		printf("# %s", text);
	free(text);
	opts_free(o);
}

static const struct tap_test tests[] = {
	TAP_TEST(t_table_is_consistent),
	TAP_TEST(t_seed_rows_present),
	TAP_TEST(t_defaults),
	TAP_TEST(t_parse_booleans_and_integers),
	TAP_TEST(t_parse_enums_counters_caps),
	TAP_TEST(t_parse_lists),
	TAP_TEST(t_typed_setters),
	TAP_TEST(t_origins_are_copied),
	TAP_TEST(t_show_config_text),
};

TAP_MAIN(tests, &options_tap_opts)
