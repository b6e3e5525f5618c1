// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Documents generated from the option table, so that they cannot drift
 * from it: etc/criu.conf and the option lists of docs/criu.8, plus the
 * pieces --help shares with them. Uses nothing but table.c and libc.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "options/gen.h"

static const char *const action_help[ACT__COUNT] = {
	[ACT_DUMP] = "checkpoint a process tree into image files",
	[ACT_PRE_DUMP] = "save the memory of a running tree ahead of a dump",
	[ACT_RESTORE] = "restore a process tree from image files",
	[ACT_LAZY_PAGES] = "serve the memory of a lazy restore through userfaultfd",
	[ACT_CHECK] = "check that the kernel supports what criu needs",
	[ACT_CPUINFO_DUMP] = "write the CPU features of this machine to cpuinfo.img",
	[ACT_CPUINFO_CHECK] = "check this CPU against cpuinfo.img",
	[ACT_PAGE_SERVER] = "receive pages over the network (or serve them to lazy-pages)",
	[ACT_SERVICE] = "serve RPC requests on a UNIX socket",
	[ACT_SWRK] = "serve RPC requests on an inherited socket (used by libcriu)",
	[ACT_DEDUP] = "punch out page data that newer images made redundant",
	[ACT_PLUGINS] = "list the plugins found and which of them are loaded",
	[ACT_EXEC] = "removed (use the Compel library)",
	[ACT_SHOW] = "removed (use crit decode)",
};

const char *opts_action_help(enum action act)
{
	return (unsigned int)act < ACT__COUNT ? action_help[act] : NULL;
}

void opt_synopsis(const struct opt_desc *d, char *buf, size_t len)
{
	const char *arg = d->arg ? d->arg : "";

	if (d->type == OT_BOOL)
		snprintf(buf, len, "--[no-]%s", d->name);
	else if (d->type == OT_ARGV)
		snprintf(buf, len, "--%s -- CMD [ARG...]", d->name);
	else if (d->flags & OF_OPTARG)
		snprintf(buf, len, "--%s[=%s]", d->name, arg);
	else if (d->arg)
		snprintf(buf, len, "--%s %s", d->name, arg);
	else
		snprintf(buf, len, "--%s", d->name);
}

void opt_actions_text(unsigned int actions, char *buf, size_t len)
{
	static const enum action order[] = {
		ACT_DUMP, ACT_PRE_DUMP, ACT_RESTORE, ACT_LAZY_PAGES, ACT_CHECK, ACT_CPUINFO_DUMP,
		ACT_CPUINFO_CHECK, ACT_PAGE_SERVER, ACT_SERVICE, ACT_SWRK, ACT_DEDUP, ACT_PLUGINS,
	};
	size_t n = 0;

	buf[0] = '\0';
	if ((actions & OA_ANY) == OA_ANY) {
		snprintf(buf, len, "all actions");
		return;
	}
	if ((actions & OA_ANY) == (OA_ANY & ~OA_SVC)) {
		snprintf(buf, len, "all actions but service");
		return;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *name = opts_action_name(order[i]);

		if (!(actions & OA_BIT(order[i])))
			continue;
		/* "cpuinfo" once when both of its subcommands are meant. */
		if (order[i] == ACT_CPUINFO_DUMP && (actions & OA_CI) == OA_CI) {
			name = "cpuinfo";
			i++;
		}
		if (n < len)
			n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
	}
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(opt_desc_get(*(const enum opt_id *)a)->name, opt_desc_get(*(const enum opt_id *)b)->name);
}

void opt_sorted(enum opt_id *ids)
{
	for (int i = 0; i < OPT__COUNT; i++)
		ids[i] = i;
	qsort(ids, OPT__COUNT, sizeof(*ids), cmp_ids);
}

/* The value a commented-out line shows: the default, else a placeholder. */
static const char *sample_value(const struct opt_desc *d)
{
	if (d->def)
		return d->def;
	switch (d->type) {
	case OT_FLAG:
	case OT_BOOL:
	case OT_OPTLIST:
		return "false";
	default:
		return d->arg ? d->arg : "VALUE";
	}
}

static void config_entry(FILE *f, const struct opt_desc *d)
{
	char acts[256];

	opt_actions_text(d->actions, acts, sizeof(acts));
	fprintf(f, "\n# %s", d->name);
	if (d->short_name)
		fprintf(f, " (-%c)", d->short_name);
	fprintf(f, ": %s.\n#   For %s.", d->help, acts);
	if (d->type == OT_LIST || d->type == OT_ARGV || d->type == OT_OPTLIST)
		fprintf(f, " May repeat.");
	if (d->type == OT_ENUM)
		fprintf(f, " One of: %s.", d->values);
	fprintf(f, "\n#%s = %s\n", d->name, sample_value(d));
}

int opts_gen_config(FILE *f)
{
	enum opt_id ids[OPT__COUNT];

	opt_sorted(ids);
	fputs("# SPDX-License-Identifier: LGPL-2.1-or-later\n"
	      "#\n"
	      "# criu configuration, INI format. Generated from core/options/options.def;\n"
	      "# do not edit: change the table and run `make update-generated`.\n"
	      "#\n"
	      "# criu reads, later ones winning: /etc/criu/default.conf,\n"
	      "# ~/.criu/default.conf, $CRIU_CONFIG_FILE, the file of -c/--config (which\n"
	      "# skips the two default files), then the command line. This file is an\n"
	      "# example: copy what you need into one of those.\n"
	      "#\n"
	      "# Keys are the long option names. Booleans take true or false (yes/no,\n"
	      "# on/off, 1/0); keys marked \"may repeat\" add a value each time. A line\n"
	      "# below shows the default value, or what kind of value the key takes.\n"
	      "# [global] applies to every action; a section named after an action\n"
	      "# ([dump], [pre-dump], [restore], [lazy-pages], [check], [cpuinfo],\n"
	      "# [page-server], [service], [swrk], [dedup]) overrides it for that action.\n"
	      "# A file without any [section] is read in CRIU's legacy format instead.\n"
	      "# `criu ACTION --show-config` prints what is in effect and where it came from.\n"
	      "\n[global]\n",
	      f);
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(ids[i]);

		if (!(d->flags & (OF_CLI | OF_DEPRECATED | OF_PLUGINS)))
			config_entry(f, d);
	}
	fputs("\n# For example, keep TCP connections only when dumping:\n"
	      "#[dump]\n"
	      "#tcp-established = true\n"
	      "\n# Which plugins to load from the plugin dir (libdir); by default all of them.\n"
	      "[plugins]\n",
	      f);
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(ids[i]);

		if (d->flags & OF_PLUGINS)
			fprintf(f, "\n# %s: %s. May repeat.\n#%s = %s\n", d->name, d->help, d->name, sample_value(d));
	}
	fputs("\n# Each plugin reads its own keys from a section named after it;\n"
	      "# `criu plugins` lists the plugins and their keys.\n"
	      "#[plugin.NAME]\n"
	      "#key = value\n",
	      f);
	return ferror(f) ? -EIO : 0;
}

/* Text for roff: '-' and '\' escaped, nothing read as a request. */
static void roff(FILE *f, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
}

static void man_option(FILE *f, const struct opt_desc *d)
{
	char acts[256];

	opt_actions_text(d->actions, acts, sizeof(acts));
	fputs(".TP\n", f);
	if (d->short_name)
		fprintf(f, "\\fB\\-%c\\fR, ", d->short_name);
	/* Bold option, italic argument. */
	if (d->type == OT_BOOL)
		fputs("\\fB\\-\\-\\fR[\\fBno\\-\\fR]\\fB", f);
	else
		fputs("\\fB\\-\\-", f);
	roff(f, d->name);
	fputs("\\fR", f);
	if (d->type == OT_ARGV) {
		fputs(" \\-\\- \\fICMD\\fR [\\fIARG\\fR...]", f);
	} else if (d->arg) {
		fputs((d->flags & OF_OPTARG) ? "[=\\fI" : " \\fI", f);
		roff(f, d->arg);
		fputs((d->flags & OF_OPTARG) ? "\\fR]" : "\\fR", f);
	}
	/* The help line, as a sentence. */
	fprintf(f, "\n\\&%c", toupper((unsigned char)d->help[0]));
	roff(f, d->help + 1);
	fputs(".\n.br\n\\&", f);
	if (d->flags & OF_DEPRECATED)
		fputs("Removed: criu fails when it is given. ", f);
	fputs("For ", f);
	roff(f, acts);
	fputs(".", f);
	if (d->def) {
		fputs(" Default: ", f);
		roff(f, d->def);
		fputs(".", f);
	}
	if (d->type == OT_ENUM) {
		fputs(" Values: ", f);
		roff(f, d->values);
		fputs(".", f);
	}
	if (d->flags & OF_CLI) {
		fputs(" Command line only.", f);
	} else {
		fputs(" Config key: \\fB", f);
		roff(f, d->name);
		fputs("\\fR.", f);
	}
	if (d->rpc_field)
		fprintf(f, " RPC: criu_opts field %d.", d->rpc_field);
	if (d->lib_setter) {
		fputs(" libcriu: \\fB", f);
		roff(f, d->lib_setter);
		fputs("\\fR().", f);
	}
	fputs("\n", f);
}

static void man_plugin_key(FILE *f, const struct opt_desc *d)
{
	fputs(".TP\n\\fB", f);
	roff(f, d->name);
	fputs("\\fR = \\fI", f);
	roff(f, d->arg ? d->arg : "VALUE");
	fputs("\\fR\n\\&", f);
	/* Drop the "[plugins] " the help line starts with: this is that section. */
	roff(f, strncmp(d->help, "[plugins] ", 10) ? d->help : d->help + 10);
	fputs(". May repeat; names may be separated by commas.\n", f);
}

int opts_gen_man(FILE *f, const char *template_text)
{
	enum opt_id ids[OPT__COUNT];
	const char *p = template_text;

	opt_sorted(ids);
	while (*p) {
		size_t n = strcspn(p, "\n");
		bool options = n == 9 && !strncmp(p, "@OPTIONS@", 9);
		bool keys = n == 13 && !strncmp(p, "@PLUGIN_KEYS@", 13);

		for (int i = 0; i < OPT__COUNT && (options || keys); i++) {
			const struct opt_desc *d = opt_desc_get(ids[i]);

			if (options && !(d->flags & OF_PLUGINS))
				man_option(f, d);
			else if (keys && (d->flags & OF_PLUGINS))
				man_plugin_key(f, d);
		}
		if (!options && !keys)
			fprintf(f, "%.*s\n", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
	return ferror(f) ? -EIO : 0;
}
