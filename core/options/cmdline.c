// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The criu command line, GNU style as CRIU parses it with getopt_long:
 * options before or after the action, --name=value or --name value,
 * bundled short options (-vvv, -v4), optional arguments only when
 * attached, --no-NAME, unique prefixes, and "--" ending the options.
 *
 * Parsing is two passes. The first collects the options and the words
 * (action, cpuinfo subcommand, swrk fd, --exec-cmd command). The second
 * builds the store in order of precedence: defaults, environment, the
 * default config files, $CRIU_CONFIG_FILE, -c files, then the options of
 * the command line, so that the action is known before any INI section
 * is chosen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options/priv.h"

#define DEFAULT_CONFIG_DIR "/etc/criu"
#define DEFAULT_CONFIG_NAME "default.conf"

/* One option of the command line, as collected by the first pass. */
struct cli_item {
	const struct opt_desc *d;
	const char *value; /* NULL: given without a value */
	bool neg;	   /* --no-NAME */
	char spelled[80];  /* how to name it in messages: "-t", "--tree" */
};

struct cli {
	struct cli_item *items;
	size_t n_items;
	const char **words;
	size_t n_words;
};

static const struct {
	const char *name;
	enum action act;
} commands[] = {
	{ "dump", ACT_DUMP },
	{ "pre-dump", ACT_PRE_DUMP },
	{ "restore", ACT_RESTORE },
	{ "lazy-pages", ACT_LAZY_PAGES },
	{ "check", ACT_CHECK },
	{ "cpuinfo", ACT_CPUINFO_DUMP }, /* the subcommand decides */
	{ "page-server", ACT_PAGE_SERVER },
	{ "service", ACT_SERVICE },
	{ "swrk", ACT_SWRK },
	{ "dedup", ACT_DEDUP },
	{ "plugins", ACT_PLUGINS },
	{ "exec", ACT_EXEC },
	{ "show", ACT_SHOW },
};

static const struct opt_desc *find_short(char c)
{
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);

		if (d->short_name == c)
			return d;
	}
	return NULL;
}

/* Does the option consume the next word when no value is attached? */
static bool needs_value(const struct opt_desc *d)
{
	if (d->flags & OF_OPTARG)
		return false;
	return d->type != OT_FLAG && d->type != OT_BOOL && d->type != OT_ARGV;
}

static int add_long(struct cli *c, int argc, char **argv, int *i)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	struct cli_item *it = &c->items[c->n_items];
	char ambig[1024], hint[80], typed[80];

	snprintf(typed, sizeof(typed), "%.*s", (int)len, name);
	switch (opt_lookup_long(name, len, &it->d, &it->neg, ambig, sizeof(ambig))) {
	case OPT_LOOKUP_UNKNOWN:
		if (opt_suggest(typed, true, true, hint, sizeof(hint)))
			fprintf(stderr, "criu: unknown option '--%s' (did you mean '--%s'?)\n", typed, hint);
		else
			fprintf(stderr, "criu: unknown option '--%s'\n", typed);
		return -EINVAL;
	case OPT_LOOKUP_AMBIGUOUS:
		fprintf(stderr, "criu: option '--%s' is ambiguous; possibilities: %s\n", typed, ambig);
		return -EINVAL;
	case OPT_LOOKUP_OK:
		break;
	}
	snprintf(it->spelled, sizeof(it->spelled), "--%s%s", it->neg ? "no-" : "", it->d->name);
	if (it->d->flags & OF_DEPRECATED) {
		fprintf(stderr, "criu: %s is deprecated\n", it->spelled);
		return -EINVAL;
	}
	it->value = NULL;
	if (eq) {
		if (it->neg || !(needs_value(it->d) || (it->d->flags & OF_OPTARG))) {
			fprintf(stderr, "criu: option '%s' doesn't allow an argument\n", it->spelled);
			return -EINVAL;
		}
		it->value = eq + 1;
	} else if (!it->neg && needs_value(it->d)) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "criu: option '%s' requires an argument\n", it->spelled);
			return -EINVAL;
		}
		it->value = argv[++*i];
	}
	c->n_items++;
	return 0;
}

static int add_shorts(struct cli *c, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];

	for (int j = 1; arg[j]; j++) {
		struct cli_item *it = &c->items[c->n_items];
		const char *rest = arg + j + 1;

		it->d = find_short(arg[j]);
		it->neg = false;
		it->value = NULL;
		if (!it->d) {
			fprintf(stderr, "criu: unknown option '-%c'\n", arg[j]);
			return -EINVAL;
		}
		snprintf(it->spelled, sizeof(it->spelled), "-%c", arg[j]);
		c->n_items++;
		if (it->d->flags & OF_OPTARG) {
			it->value = *rest ? rest : NULL;
			return 0;
		}
		if (needs_value(it->d)) {
			if (*rest) {
				it->value = rest;
			} else if (*i + 1 < argc) {
				it->value = argv[++*i];
			} else {
				fprintf(stderr, "criu: option '%s' requires an argument\n", it->spelled);
				return -EINVAL;
			}
			return 0;
		}
	}
	return 0;
}

/* First pass: split argv into options and words. */
static int collect(struct cli *c, int argc, char **argv)
{
	bool options_done = false;
	int ret = 0;

	/* Each argument gives at most as many items as it has letters. */
	size_t room = 0;

	for (int i = 1; i < argc; i++)
		room += strlen(argv[i]) + 1;
	c->items = calloc(room + 1, sizeof(*c->items));
	c->words = calloc(argc + 1, sizeof(*c->words));
	if (!c->items || !c->words) {
		fprintf(stderr, "criu: out of memory\n");
		return -ENOMEM;
	}
	for (int i = 1; i < argc && !ret; i++) {
		const char *arg = argv[i];

		if (options_done || arg[0] != '-' || !arg[1])
			c->words[c->n_words++] = arg;
		else if (!strcmp(arg, "--"))
			options_done = true;
		else if (arg[1] == '-')
			ret = add_long(c, argc, argv, &i);
		else
			ret = add_shorts(c, argc, argv, &i);
	}
	return ret;
}

static bool cli_has(const struct cli *c, enum opt_id id)
{
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].d->id == id)
			return true;
	return false;
}

/* The action from the words; *USED says how many words it took. */
static int find_action(const struct cli *c, struct cmdline *cmd, size_t *used, bool quiet)
{
	const char *w = c->n_words ? c->words[0] : NULL;
	char hint[80] = "";
	size_t best = 3;

	*used = 0;
	cmd->action = ACT_NONE;
	if (!w)
		return 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		size_t dist = opt_name_distance(w, commands[i].name);

		if (dist < best) {
			best = dist;
			snprintf(hint, sizeof(hint), "%s", commands[i].name);
		}
		if (strcmp(w, commands[i].name))
			continue;
		cmd->action = commands[i].act;
		*used = 1;
		if (cmd->action == ACT_CPUINFO_DUMP) {
			const char *sub = c->n_words > 1 ? c->words[1] : NULL;

			if (!sub) {
				if (!quiet)
					fprintf(stderr, "criu: cpuinfo requires an action: dump or check\n");
				return -EINVAL;
			}
			if (strcmp(sub, "dump") && strcmp(sub, "check")) {
				if (!quiet)
					fprintf(stderr, "criu: unknown cpuinfo action '%s' (expected dump or check)\n", sub);
				return -EINVAL;
			}
			cmd->action = strcmp(sub, "dump") ? ACT_CPUINFO_CHECK : ACT_CPUINFO_DUMP;
			*used = 2;
		}
		return 0;
	}
	if (quiet)
		return -EINVAL;
	if (best < 3 && strlen(w) > 2)
		fprintf(stderr, "criu: unknown command '%s' (did you mean '%s'?)\n", w, hint);
	else
		fprintf(stderr, "criu: unknown command '%s'\n", w);
	return -EINVAL;
}

/* The words after the action: swrk's fd or --exec-cmd's command. */
static int take_rest(const struct cli *c, size_t used, struct cmdline *cmd, bool exec_cmd)
{
	size_t rest = c->n_words - used;

	if (cmd->action == ACT_SWRK) {
		char *end;
		long fd = -1;

		if (rest == 1)
			fd = strtol(c->words[used], &end, 10);
		if (rest != 1 || *end || fd < 0 || fd > 1 << 20) {
			fprintf(stderr, "Usage: criu swrk <fd>\n");
			return -EINVAL;
		}
		cmd->swrk_fd = (int)fd;
		return 0;
	}
	if (!rest)
		return 0;
	if (!exec_cmd) {
		fprintf(stderr, "criu: excessive parameter '%s'\n", c->words[used]);
		return -EINVAL;
	}
	cmd->exec_argv = calloc(rest + 1, sizeof(*cmd->exec_argv));
	if (!cmd->exec_argv)
		return -ENOMEM;
	for (size_t i = 0; i < rest; i++)
		cmd->exec_argv[i] = (char *)c->words[used + i];
	cmd->exec_argc = (int)rest;
	return 0;
}

static int load_config_layers(struct options *o, const struct cli *c)
{
	const struct opts_diag dg = { .to_stderr = true };
	const char *dir, *home, *env;
	char path[4096];
	int ret;

	if (!cli_has(c, OPT_NO_DEFAULT_CONFIG) && !cli_has(c, OPT_CONFIG)) {
		dir = getenv("CRIU_DEFAULT_CONFIG_DIR");
		snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : DEFAULT_CONFIG_DIR, DEFAULT_CONFIG_NAME);
		ret = opts_load_file_diag(o, path, &dg);
		if (ret && ret != -ENOENT)
			return ret;
		home = getenv("HOME");
		if (home && *home) {
			snprintf(path, sizeof(path), "%s/.criu/%s", home, DEFAULT_CONFIG_NAME);
			ret = opts_load_file_diag(o, path, &dg);
			if (ret && ret != -ENOENT)
				return ret;
		}
	}
	/* CRIU reads this one even with --config or --no-default-config. */
	env = getenv("CRIU_CONFIG_FILE");
	if (env && *env) {
		ret = opts_load_file_diag(o, env, &dg);
		if (ret == -ENOENT)
			fprintf(stderr, "%s: can't read config file: %s\n", env, strerror(ENOENT));
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < c->n_items; i++) {
		if (c->items[i].d->id != OPT_CONFIG)
			continue;
		ret = opts_load_file_diag(o, c->items[i].value, &dg);
		if (ret == -ENOENT)
			fprintf(stderr, "%s: can't read config file: %s\n", c->items[i].value, strerror(ENOENT));
		if (ret)
			return ret;
	}
	return 0;
}

static int apply_env(struct options *o)
{
	struct opt_origin org = { .kind = OPT_ORIGIN_ENV };
	char err[OPT_ERR_LEN];
	const char *v;
	int ret = 0;

	if (getenv("CRIU_DEPRECATED")) {
		org.file = "CRIU_DEPRECATED";
		ret = opt_parse(o, OPT_DEPRECATED, "true", &org, err, sizeof(err));
	}
	v = getenv("CRIU_LIBS_DIR");
	if (!ret && v && *v) {
		org.file = "CRIU_LIBS_DIR";
		ret = opt_parse(o, OPT_LIBDIR, v, &org, err, sizeof(err));
	}
	return ret;
}

static int apply_cli(struct options *o, const struct cli *c, const struct cmdline *cmd)
{
	const struct opt_origin org = { .kind = OPT_ORIGIN_CLI };
	char err[OPT_ERR_LEN];
	int ret;

	for (size_t i = 0; i < c->n_items; i++) {
		const struct cli_item *it = &c->items[i];

		ret = opt_parse(o, it->d->id, it->neg ? "false" : it->value, &org, err, sizeof(err));
		if (ret == -ENOMEM)
			fprintf(stderr, "criu: out of memory\n");
		else if (ret)
			fprintf(stderr, "criu: option '%s': %s\n", it->spelled, err);
		if (ret)
			return ret;
	}
	for (int i = 0; i < cmd->exec_argc; i++) {
		ret = opt_list_add(o, OPT_EXEC_CMD, cmd->exec_argv[i], &org);
		if (ret)
			return ret;
	}
	return 0;
}

/* The checks CRIU runs once every option is known (reference, section 2). */
static int post_checks(const struct options *o, const struct cmdline *cmd)
{
	enum action act = cmd->action;
	const char *name = opts_action_name(act);

	if (opt_bool(o, OPT_RESTORE_SIBLING) && !opt_bool(o, OPT_RESTORE_DETACHED)) {
		fprintf(stderr, "criu: --restore-sibling only makes sense with --restore-detached\n");
		return -EINVAL;
	}
	if (opt_list_len(o, OPT_INHERIT_FD) && act != ACT_RESTORE) {
		fprintf(stderr, "criu: --inherit-fd is a restore-only option\n");
		return -EINVAL;
	}
	if (opt_bool(o, OPT_EXEC_CMD)) {
		const char *why = NULL;

		if (act != ACT_RESTORE)
			why = "is a restore-only option";
		else if (!opt_list_len(o, OPT_EXEC_CMD))
			why = "needs a command after the options (criu restore --exec-cmd -- CMD ARGS)";
		else if (opt_bool(o, OPT_RESTORE_DETACHED))
			why = "can't be used with --restore-detached";
		if (why) {
			fprintf(stderr, "criu: --exec-cmd %s\n", why);
			return -EINVAL;
		}
	}
	if (opt_is_set(o, OPT_PS_SOCKET) && opt_int(o, OPT_PS_SOCKET) <= 2 && opt_bool(o, OPT_DAEMON)) {
		fprintf(stderr, "criu: --ps-socket %lld would be closed by --daemon; use an fd above 2\n",
			opt_int(o, OPT_PS_SOCKET));
		return -EINVAL;
	}
	if (opt_bool(o, OPT_STREAM) && !(OA_BIT(act) & opt_desc_get(OPT_STREAM)->actions)) {
		fprintf(stderr, "criu: --stream is not supported by %s\n", name);
		return -EINVAL;
	}
	if (opt_bool(o, OPT_MNTNS_COMPAT_MODE) && act != ACT_RESTORE) {
		fprintf(stderr, "criu: --mntns-compat-mode is a restore-only option\n");
		return -EINVAL;
	}
	if (opt_bool(o, OPT_LAZY_PAGES) && act == ACT_PRE_DUMP) {
		fprintf(stderr, "criu: pre-dump doesn't support --lazy-pages\n");
		return -EINVAL;
	}
	if ((act == ACT_DUMP || act == ACT_PRE_DUMP) && !opt_is_set(o, OPT_TREE)) {
		fprintf(stderr, "criu: %s: pid not specified (use -t PID)\n", name);
		return -EINVAL;
	}
	if (act == ACT_RESTORE && opt_is_set(o, OPT_TREE))
		fprintf(stderr, "criu: warning: -t/--tree is obsolete for restore and ignored\n");
	if (act == ACT_RESTORE && opt_is_set(o, OPT_NETWORK_LOCK))
		fprintf(stderr, "criu: warning: --network-lock is ignored on restore; the method of the dump is used\n");
	return 0;
}

int opts_parse_cmdline(int argc, char **argv, struct options **out, struct cmdline *cmd)
{
	struct options *o = NULL;
	struct cli c = { 0 };
	size_t used = 0;
	int ret;

	memset(cmd, 0, sizeof(*cmd));
	cmd->swrk_fd = -1;
	*out = NULL;

	ret = collect(&c, argc, argv);
	if (ret)
		goto out;
	cmd->help = cli_has(&c, OPT_HELP);
	cmd->version = cli_has(&c, OPT_VERSION);
	cmd->show_config = cli_has(&c, OPT_SHOW_CONFIG);

	/* Help and version work even with a broken config file. */
	if (cmd->help || cmd->version) {
		find_action(&c, cmd, &used, true);
		o = opts_new();
		ret = o ? 0 : -ENOMEM;
		goto out;
	}
	ret = find_action(&c, cmd, &used, false);
	if (ret)
		goto out;
	/* The deprecated actions only print why; main does that. */
	if (cmd->action == ACT_EXEC || cmd->action == ACT_SHOW) {
		o = opts_new();
		ret = o ? 0 : -ENOMEM;
		goto out;
	}
	if (cmd->action == ACT_NONE && !cmd->show_config) {
		opts_print_usage(stderr);
		ret = -EINVAL;
		goto out;
	}
	ret = take_rest(&c, used, cmd, cli_has(&c, OPT_EXEC_CMD));
	if (ret)
		goto out;

	o = opts_new();
	if (!o) {
		ret = -ENOMEM;
		goto out;
	}
	opts_set_action(o, cmd->action);
	ret = apply_env(o);
	if (!ret)
		ret = load_config_layers(o, &c);
	if (!ret)
		ret = apply_cli(o, &c, cmd);
	if (!ret && !cmd->show_config)
		ret = post_checks(o, cmd);
out:
	free(c.items);
	free(c.words);
	if (ret == -ENOMEM)
		fprintf(stderr, "criu: out of memory\n");
	if (ret) {
		opts_free(o);
		cmdline_free(cmd);
		return ret;
	}
	*out = o;
	return 0;
}

void cmdline_free(struct cmdline *cmd)
{
	if (!cmd)
		return;
	free(cmd->exec_argv);
	cmd->exec_argv = NULL;
	cmd->exec_argc = 0;
}
