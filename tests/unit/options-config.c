// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Config files and the three doors: every option of the table set on the
 * command line, in an INI file and in a legacy file gives the same value;
 * the precedence of the layers; action sections over [global]; plugin
 * sections; and the FILE:LINE message of every kind of bad line.
 */
#include "options-tap.h"

#include "log/log.h"
#include "options/options.h"

/* --- the same option through the three doors ------------------------------ */

struct sample {
	const char *vals[2];
	int n;
	bool neg; /* --no-NAME / NAME = false */
};

static const char *enum_sample(const struct opt_desc *d)
{
	static char buf[64];
	const char *last = d->values, *p;

	for (p = d->values; (p = strchr(p, '|')); p++)
		last = p + 1;
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(last, "|/"), last);
	if (d->def && !strcmp(buf, d->def))
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(d->values, "|/"), d->values);
	return buf;
}

static void sample_for(const struct opt_desc *d, bool neg, struct sample *s)
{
	memset(s, 0, sizeof(*s));
	s->neg = neg;
	switch (d->type) {
	case OT_FLAG:
	case OT_BOOL:
		break;
	case OT_INT:
	case OT_UINT:
		s->vals[s->n++] = "7";
		break;
	case OT_SIZE:
		s->vals[s->n++] = "3M";
		break;
	case OT_STR:
		s->vals[s->n++] = "/tmp/a b";
		break;
	case OT_ENUM:
		s->vals[s->n++] = enum_sample(d);
		break;
	case OT_COUNTER:
		s->vals[s->n++] = "4";
		break;
	case OT_CPUCAP:
		s->vals[s->n++] = "^ins";
		break;
	case OT_OPTLIST:
		s->vals[s->n++] = "5,6";
		break;
	case OT_LIST:
	case OT_ARGV:
		if (d->values) {
			s->vals[s->n++] = "101";
			s->vals[s->n++] = "102";
		} else {
			s->vals[s->n++] = "/x/one two";
			s->vals[s->n++] = "second";
		}
		break;
	}
}

/* An action the option applies to, and what that action needs besides. */
static int action_words(const struct opt_desc *d, const char **argv)
{
	static const struct {
		unsigned int bits;
		const char *words[3];
	} pick[] = {
		{ OA_R, { "restore" } },	 { OA_D, { "dump" } },		 { OA_PD, { "pre-dump" } },
		{ OA_CHK, { "check" } },	 { OA_PS, { "page-server" } },	 { OA_SVC, { "service" } },
		{ OA_LP, { "lazy-pages" } },	 { OA_CI, { "cpuinfo", "dump" } }, { OA_PL, { "plugins" } },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		if (!(d->actions & pick[i].bits))
			continue;
		for (int w = 0; pick[i].words[w]; w++)
			argv[n++] = pick[i].words[w];
		if ((pick[i].bits & (OA_D | OA_PD)) && d->id != OPT_TREE) {
			argv[n++] = "-t";
			argv[n++] = "1";
		}
		break;
	}
	if (d->id == OPT_RESTORE_SIBLING)
		argv[n++] = "-d";
	return n;
}

enum door { DOOR_CLI, DOOR_INI, DOOR_LEGACY };

static char *fingerprint(const struct options *o, const struct opt_desc *d)
{
	char *text = NULL, *show = NULL, *line, *save = NULL;
	size_t len = 0, slen = 0;
	FILE *f = open_memstream(&text, &len), *s = open_memstream(&show, &slen);
	char key[96], unset[96];

	fprintf(f, "bool=%d int=%lld str=%s set=%d", opt_bool(o, d->id), opt_int(o, d->id),
		opt_str(o, d->id) ? opt_str(o, d->id) : "(null)", opt_is_set(o, d->id));
	for (size_t i = 0; i < opt_list_len(o, d->id); i++)
		fprintf(f, " [%s]", opt_list_at(o, d->id, i));
	opts_show_config(o, s);
	fclose(s);
	snprintf(key, sizeof(key), "%s = ", d->name);
	snprintf(unset, sizeof(unset), "; %s (", d->name);
	for (line = strtok_r(show, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *cut;

		if (strncmp(line, key, strlen(key)) && strncmp(line, unset, strlen(unset)))
			continue;
		cut = strstr(line, " ; ");
		if (cut) {
			while (cut > line && cut[-1] == ' ')
				cut--;
			*cut = '\0';
		}
		fprintf(f, " | %s", line);
	}
	fclose(f);
	free(show);
	return text;
}

static char *through_door(const struct opt_desc *d, const struct sample *s, enum door door, int *kind)
{
	const char *argv[32] = { "criu" };
	char file[2048] = "";
	struct options *o = NULL;
	struct cmdline cmd;
	size_t fl = 0;
	int argc = 1, ret;
	char *fp = NULL, opt[128];

	argc += action_words(d, argv + argc);
	if (door == DOOR_INI)
		fl += snprintf(file + fl, sizeof(file) - fl, "[global]\n");
	if (s->neg || !s->n) {
		if (door == DOOR_CLI) {
			snprintf(opt, sizeof(opt), "--%s%s", s->neg ? "no-" : "", d->name);
			argv[argc++] = opt;
		} else if (door == DOOR_INI) {
			fl += snprintf(file + fl, sizeof(file) - fl, "%s = %s\n", d->name, s->neg ? "false" : "true");
		} else {
			fl += snprintf(file + fl, sizeof(file) - fl, "%s%s\n", s->neg ? "no-" : "", d->name);
		}
	}
	for (int i = 0; i < s->n && !s->neg; i++) {
		static char attached[2][256];

		if (door == DOOR_INI) {
			fl += snprintf(file + fl, sizeof(file) - fl, "%s = %s\n", d->name, s->vals[i]);
		} else if (door == DOOR_LEGACY) {
			fl += snprintf(file + fl, sizeof(file) - fl, "%s \"%s\"\n", d->name, s->vals[i]);
		} else if (d->type == OT_ARGV) {
			if (i == 0) {
				argv[argc++] = "--exec-cmd";
				argv[argc++] = "--";
			}
			argv[argc++] = s->vals[i];
		} else if (d->flags & OF_OPTARG) {
			snprintf(attached[i], sizeof(attached[i]), "--%s=%s", d->name, s->vals[i]);
			argv[argc++] = attached[i];
		} else {
			snprintf(attached[i], sizeof(attached[i]), "--%s", d->name);
			argv[argc++] = attached[i];
			argv[argc++] = s->vals[i];
		}
	}
	if (door != DOOR_CLI) {
		argv[argc++] = "-c";
		argv[argc++] = tap_write(door == DOOR_INI ? "door.ini" : "door.conf", file);
	}
	argv[argc] = NULL;
	ret = opts_parse_cmdline(argc, (char **)argv, &o, &cmd);
	if (ret) {
		printf("#   %s through door %d failed (%d)\n", d->name, door, ret);
		tap_failed = 1;
		return strdup("(failed)");
	}
	fp = fingerprint(o, d);
	*kind = opt_list_len(o, d->id) ? (int)opt_list_origin(o, d->id, 0)->kind : (int)opt_origin_get(o, d->id)->kind;
	opts_free(o);
	cmdline_free(&cmd);
	return fp;
}

static void check_option(const struct opt_desc *d, bool neg)
{
	struct sample s;
	char *cli, *ini, *legacy;
	int k_cli = -1, k_ini = -1, k_legacy = -1;

	sample_for(d, neg, &s);
	cli = through_door(d, &s, DOOR_CLI, &k_cli);
	ini = through_door(d, &s, DOOR_INI, &k_ini);
	legacy = through_door(d, &s, DOOR_LEGACY, &k_legacy);
	if (strcmp(cli, ini) || strcmp(cli, legacy) || !strstr(cli, "set=1")) {
		printf("#   %s%s differs:\n#     cli    %s\n#     ini    %s\n#     legacy %s\n", neg ? "no-" : "",
		       d->name, cli, ini, legacy);
		tap_failed = 1;
	}
	CHECK_EQ(k_cli, OPT_ORIGIN_CLI);
	CHECK_EQ(k_ini, OPT_ORIGIN_FILE);
	CHECK_EQ(k_legacy, OPT_ORIGIN_FILE);
	free(cli);
	free(ini);
	free(legacy);
}

static void t_every_option_three_doors(void)
{
	int tested = 0;

	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);

		if (d->flags & (OF_CLI | OF_DEPRECATED | OF_PLUGINS))
			continue;
		check_option(d, false);
		if (d->type == OT_BOOL)
			check_option(d, true);
		tested++;
	}
	printf("#   %d options compared\n", tested);
	CHECK(tested >= 80);
}

/* --- precedence --------------------------------------------------------------- */

struct layers {
	bool sys, home, env, cfile, cli, no_default;
};

static struct options *parse_layers(const struct layers *l)
{
	const char *argv[16] = { "criu", "dump", "-t", "1" };
	struct options *o = NULL;
	struct cmdline cmd;
	int argc = 4;

	tap_write("etc/default.conf", l->sys ? "timeout 1\nexternal sys\n" : "");
	tap_write("home/.criu/default.conf", l->home ? "[global]\ntimeout = 2\nexternal = home\n" : "");
	tap_write("env.conf", "timeout 3\nexternal env\n");
	tap_write("c.conf", "[global]\n\ntimeout = 4\nexternal = c\n");
	if (l->env)
		setenv("CRIU_CONFIG_FILE", tap_path("env.conf"), 1);
	else
		unsetenv("CRIU_CONFIG_FILE");
	if (l->cfile) {
		argv[argc++] = "--config";
		argv[argc++] = tap_path("c.conf");
	}
	if (l->no_default)
		argv[argc++] = "--no-default-config";
	if (l->cli) {
		argv[argc++] = "--timeout=5";
		argv[argc++] = "--external";
		argv[argc++] = "cli";
	}
	argv[argc] = NULL;
	if (opts_parse_cmdline(argc, (char **)argv, &o, &cmd))
		return NULL;
	cmdline_free(&cmd);
	return o;
}

static void expect(const struct layers *l, long long timeout, const char *externals)
{
	struct options *o = parse_layers(l);
	char got[256] = "";
	size_t n = 0;

	CHECK(o != NULL);
	if (!o)
		return;
	for (size_t i = 0; i < opt_list_len(o, OPT_EXTERNAL); i++)
		n += snprintf(got + n, sizeof(got) - n, "%s%s", i ? "," : "", opt_list_at(o, OPT_EXTERNAL, i));
	CHECK_EQ(opt_int(o, OPT_TIMEOUT), timeout);
	CHECK_STR(got, externals);
	opts_free(o);
}

static void t_precedence(void)
{
	struct layers l = { .sys = true, .home = true, .env = true, .cli = true };
	struct options *o;

	expect(&l, 5, "sys,home,env,cli");
	/* Lists accumulate and remember where each item came from. */
	o = parse_layers(&l);
	CHECK(o != NULL && opt_list_len(o, OPT_EXTERNAL) == 4);
	if (o && opt_list_len(o, OPT_EXTERNAL) == 4) {
		CHECK_STR(opt_list_origin(o, OPT_EXTERNAL, 0)->file, tap_path("etc/default.conf"));
		CHECK_EQ(opt_list_origin(o, OPT_EXTERNAL, 0)->line, 2);
		CHECK_STR(opt_list_origin(o, OPT_EXTERNAL, 1)->file, tap_path("home/.criu/default.conf"));
		CHECK_EQ(opt_list_origin(o, OPT_EXTERNAL, 1)->line, 3);
		CHECK_EQ(opt_list_origin(o, OPT_EXTERNAL, 3)->kind, OPT_ORIGIN_CLI);
		CHECK_EQ(opt_origin_get(o, OPT_TIMEOUT)->kind, OPT_ORIGIN_CLI);
	}
	opts_free(o);
	/* -c turns off the default files, not $CRIU_CONFIG_FILE. */
	l.cfile = true;
	expect(&l, 5, "env,c,cli");
	l.cli = false;
	expect(&l, 4, "env,c");
	l.cfile = false;
	expect(&l, 3, "sys,home,env");
	l.env = false;
	expect(&l, 2, "sys,home");
	l.home = false;
	expect(&l, 1, "sys");
	l.sys = false;
	expect(&l, 10, "");
	/* So does --no-default-config. */
	l = (struct layers){ .sys = true, .home = true, .env = true, .no_default = true };
	expect(&l, 3, "env");
	l.env = false;
	l.cli = true;
	expect(&l, 5, "cli");
}

static void t_action_section_overrides_global(void)
{
	const char *path = tap_write("s.ini", "[dump]\ntimeout = 20\nexternal = d\n"
					     "[restore]\ntcp-close = true\n"
					     "[global]\ntimeout = 30\nexternal = g\n");
	const char *dump[] = { "criu", "dump", "-t", "1", "-c", path, NULL };
	const char *pre[] = { "criu", "pre-dump", "-t", "1", "-c", path, NULL };
	const char *rst[] = { "criu", "restore", "-c", path, NULL };
	struct options *o;
	struct cmdline cmd;

	CHECK_EQ(opts_parse_cmdline(6, (char **)dump, &o, &cmd), 0);
	CHECK_EQ(opt_int(o, OPT_TIMEOUT), 20);
	CHECK_EQ(opt_origin_get(o, OPT_TIMEOUT)->line, 2);
	CHECK_EQ(opt_list_len(o, OPT_EXTERNAL), 2); /* [global] first, then [dump] */
	CHECK_STR(opt_list_at(o, OPT_EXTERNAL, 0), "g");
	CHECK(!opt_bool(o, OPT_TCP_CLOSE));
	opts_free(o);
	CHECK_EQ(opts_parse_cmdline(6, (char **)pre, &o, &cmd), 0);
	CHECK_EQ(opt_int(o, OPT_TIMEOUT), 30);
	CHECK_EQ(opt_list_len(o, OPT_EXTERNAL), 1);
	opts_free(o);
	CHECK_EQ(opts_parse_cmdline(4, (char **)rst, &o, &cmd), 0);
	CHECK(opt_bool(o, OPT_TCP_CLOSE));
	opts_free(o);
}

static void t_plugin_sections(void)
{
	const char *path = tap_write("p.ini", "[plugins]\nenable = files,tcp\ndisable = mounts\n"
					     "[plugin.tcp]\nrepair-mode = fast\n"
					     "[plugin.files]\nghost = yes\n"
					     "[plugin.tcp]\nretries = 3\n");
	const char *argv[] = { "criu", "restore", "-c", path, NULL };
	const struct opt_plugin_kv *kv;
	struct options *o;
	struct cmdline cmd;
	size_t n;

	CHECK_EQ(opts_parse_cmdline(4, (char **)argv, &o, &cmd), 0);
	CHECK_EQ(opt_list_len(o, OPT_ENABLE), 2);
	CHECK_STR(opt_list_at(o, OPT_ENABLE, 1), "tcp");
	CHECK_EQ(opt_list_len(o, OPT_DISABLE), 1);
	kv = opts_plugin_kvs(o, &n);
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_STR(kv[0].plugin, "tcp");
		CHECK_STR(kv[0].key, "repair-mode");
		CHECK_STR(kv[0].value, "fast");
		CHECK_EQ(kv[0].origin.line, 5);
		CHECK_STR(kv[2].key, "retries");
		CHECK_EQ(kv[2].origin.line, 9);
	}
	opts_free(o);
}

static void t_ini_and_legacy_details(void)
{
	const char *ini = tap_write("d.ini", "# comment\n; comment\n[global]\n  root = /r ; inline comment\n"
					     "skip-mnt: /m\nverbosity = 3\n");
	const char *legacy = tap_write("d.conf", "# comment\n\n  root \"/a \\\"b\\\" c\" # trailing\n"
						 "verbosity=4\ntcp-est\nconfig /nonexistent\nno-default-config\n"
						 "cpu-cap all\nlog-file=/l\n");
	const char *a1[] = { "criu", "restore", "-c", ini, NULL };
	const char *a2[] = { "criu", "restore", "-c", legacy, NULL };
	struct options *o;
	struct cmdline cmd;

	CHECK_EQ(opts_parse_cmdline(4, (char **)a1, &o, &cmd), 0);
	CHECK_STR(opt_str(o, OPT_ROOT), "/r");
	CHECK_EQ(opt_origin_get(o, OPT_ROOT)->line, 4);
	CHECK_STR(opt_list_at(o, OPT_SKIP_MNT, 0), "/m");
	CHECK_EQ(opt_int(o, OPT_VERBOSITY), 3);
	opts_free(o);
	CHECK_EQ(opts_parse_cmdline(4, (char **)a2, &o, &cmd), 0);
	CHECK_STR(opt_str(o, OPT_ROOT), "/a \"b\" c");
	CHECK_EQ(opt_origin_get(o, OPT_ROOT)->line, 3);
	CHECK_EQ(opt_int(o, OPT_VERBOSITY), 4);
	CHECK(opt_bool(o, OPT_TCP_ESTABLISHED)); /* a prefix, as getopt allows */
	CHECK_EQ(opt_int(o, OPT_CPU_CAP), OPT_CPU_CAP_ALL);
	CHECK_STR(opt_str(o, OPT_LOG_FILE), "/l");
	opts_free(o);
}

/* --- bad lines ---------------------------------------------------------------- */

/* Parse `criu dump -t 1 -c FILE` with TEXT in FILE; expect exit 1 and MESSAGE. */
static void bad_file(const char *name, const char *text, const char *message)
{
	const char *path = tap_write(name, text);
	const char *argv[] = { "criu", "dump", "-t", "1", "-c", path, NULL };
	char want[1024], *err;
	struct options *o = NULL;
	struct cmdline cmd;
	int ret;

	tap_stderr_begin();
	ret = opts_parse_cmdline(6, (char **)argv, &o, &cmd);
	err = tap_stderr_end();
	CHECK_EQ(ret, -EINVAL);
	CHECK(o == NULL);
	snprintf(want, sizeof(want), "%s:%s\n", path, message);
	CHECK_STR(err, want);
	free(err);
}

static void t_bad_ini_lines(void)
{
	bad_file("a.ini", "[global]\ntcp-establised = true\n",
		 "2: unknown option 'tcp-establised' (did you mean 'tcp-established'?)");
	bad_file("b.ini", "[global]\nfoo = 1\n", "2: unknown option 'foo'");
	bad_file("c.ini", "[global]\ntimeout = soon\n",
		 "2: option 'timeout': invalid value 'soon' (expected an integer >= 0)");
	bad_file("d.ini", "[check]\n\ntree = 1\n", "3: option 'tree' does not apply to [check]");
	bad_file("e.ini", "[global]\njust a line\n",
		 "2: malformed line (expected 'key = value', '[section]' or a comment)");
	bad_file("f.ini", "[global]\n[dumpp]\ntree = 1\n", "2: unknown section [dumpp] (did you mean [dump]?)");
	bad_file("g.ini", "[zzzzzzzz]\n", "1: unknown section [zzzzzzzz]");
	bad_file("h.ini", "[global]\nenable = files\n", "2: option 'enable' belongs in the [plugins] section");
	bad_file("i.ini", "[plugins]\ntree = 1\n", "2: unknown key 'tree' in [plugins] (expected enable or disable)");
	bad_file("j.ini", "[global]\nhelp = true\n", "2: option 'help' can only be given on the command line");
	bad_file("k.ini", "[global]\nno-tcp-established = true\n",
		 "2: unknown option 'no-tcp-established' (write 'tcp-established = false')");
	bad_file("l.ini", "[global]\nroot =\n", "2: option 'root' has no value");
	bad_file("m.ini", "[global]\nms = true\n", "2: option 'ms' is deprecated");
	/* Values of another action's section are checked too. */
	bad_file("n.ini", "[restore]\nmanage-cgroups = hard\n",
		 "2: option 'manage-cgroups': invalid value 'hard' (expected one of: ignore, none, props, soft, full, "
		 "strict)");
	{
		char text[600];

		snprintf(text, sizeof(text), "[global]\nroot = /%0500d\n", 0);
		bad_file("o.ini", text, "2: line too long (at most 197 characters in an INI file)");
	}
}

static void t_bad_legacy_lines(void)
{
	bad_file("a.conf", "# c\ntcp-establised\n",
		 "2: unknown option 'tcp-establised' (did you mean 'tcp-established'?)");
	bad_file("b.conf", "root \"/x\n", "1: unsupported configuration file format: unterminated quote");
	bad_file("c.conf", "root \"\n", "1: unsupported configuration file format: unterminated quote");
	bad_file("d.conf", "root /x /y\n", "1: unsupported configuration file format: a second argument");
	bad_file("e.conf", "root=/x /y\n", "1: unsupported configuration file format: a second argument");
	bad_file("f.conf", "ms\n", "1: option 'ms' is deprecated");
	bad_file("g.conf", "tcp-established yes\n", "1: option 'tcp-established' takes no value");
	bad_file("h.conf", "timeout\n", "1: option 'timeout': requires a value");
	bad_file("i.conf", "fil x\n",
		 "1: option 'fil' is ambiguous; possibilities: '--file-locks' '--file-validation'");
	bad_file("j.conf", "version\n", "1: option 'version' can only be given on the command line");
	bad_file("k.conf", "ghost-limit 1X\n",
		 "1: option 'ghost-limit': invalid value '1X' (expected a size such as 512K, 1M or 2G)");
}

static void t_missing_files(void)
{
	const char *argv[] = { "criu", "dump", "-t", "1", "-c", "/nonexistent/x.conf", NULL };
	const char *argv2[] = { "criu", "dump", "-t", "1", NULL };
	struct options *o = NULL;
	struct cmdline cmd;
	char *err;

	tap_stderr_begin();
	CHECK_EQ(opts_parse_cmdline(6, (char **)argv, &o, &cmd), -ENOENT);
	err = tap_stderr_end();
	CHECK_STR(err, "/nonexistent/x.conf: can't read config file: No such file or directory\n");
	free(err);
	setenv("CRIU_CONFIG_FILE", "/nonexistent/env.conf", 1);
	tap_stderr_begin();
	CHECK_EQ(opts_parse_cmdline(4, (char **)argv2, &o, &cmd), -ENOENT);
	err = tap_stderr_end();
	CHECK_STR(err, "/nonexistent/env.conf: can't read config file: No such file or directory\n");
	free(err);
}

/* The RPC door: a bad config_file line goes to the log and the first error. */
static void t_load_file_logs(void)
{
	const char *path = tap_write("rpc.ini", "[global]\nshell-job = true\ntimeout = x\n");
	char want[512];
	struct options *o = opts_new();
	int fd = open(tap_path("log.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	log_set_fd(fd);
	opts_set_action(o, ACT_RESTORE);
	CHECK_EQ(opts_load_file(o, path), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: option 'timeout': invalid value 'x' (expected an integer >= 0)", path);
	CHECK_STR(err_first_message(), want);
	CHECK_EQ(opts_load_file(o, tap_path("none.conf")), -ENOENT);
	log_set_fd(2);
	close(fd);
	opts_free(o);
}

static const struct tap_test tests[] = {
	TAP_TEST(t_every_option_three_doors),
	TAP_TEST(t_precedence),
	TAP_TEST(t_action_section_overrides_global),
	TAP_TEST(t_plugin_sections),
	TAP_TEST(t_ini_and_legacy_details),
	TAP_TEST(t_bad_ini_lines),
	TAP_TEST(t_bad_legacy_lines),
	TAP_TEST(t_missing_files),
	TAP_TEST(t_load_file_logs),
};

TAP_MAIN(tests, &options_tap_opts)
