// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu --help and criu ACTION --help, written from the option table: the
 * general help lists every option, an action's help only the options
 * that apply to it.
 */
#include <stdio.h>
#include <string.h>

#include "options/gen.h"
#include "options/priv.h"

#define HELP_COL 34

static const enum action help_order[] = {
	ACT_DUMP,	  ACT_PRE_DUMP,	   ACT_RESTORE, ACT_LAZY_PAGES, ACT_CHECK, ACT_CPUINFO_DUMP,
	ACT_CPUINFO_CHECK, ACT_PAGE_SERVER, ACT_SERVICE, ACT_SWRK,	 ACT_DEDUP, ACT_PLUGINS,
};

static const char *usage_of(enum action act)
{
	switch (act) {
	case ACT_DUMP:
	case ACT_PRE_DUMP:
		return "-t PID [-D DIR] [OPTIONS]";
	case ACT_CHECK:
		return "[--extra] [--experimental] [--all] [--feature NAME] [OPTIONS]";
	case ACT_SWRK:
		return "FD";
	default:
		return "[OPTIONS]";
	}
}

void opts_print_usage(FILE *f)
{
	fprintf(f, "Usage:\n");
	for (size_t i = 0; i < sizeof(help_order) / sizeof(help_order[0]); i++)
		fprintf(f, "  criu %s %s\n", opts_action_name(help_order[i]), usage_of(help_order[i]));
	fprintf(f, "  criu --help | ACTION --help | --version | [ACTION] --show-config\n");
}

static void print_option(FILE *f, const struct opt_desc *d)
{
	char syn[256];
	int n;

	opt_synopsis(d, syn, sizeof(syn));
	if (d->short_name)
		n = fprintf(f, "  -%c, %s", d->short_name, syn);
	else
		n = fprintf(f, "      %s", syn);
	if (n >= HELP_COL - 1)
		fprintf(f, "\n%*s", HELP_COL, "");
	else
		fprintf(f, "%*s", HELP_COL - n, "");
	fprintf(f, "%s", d->help);
	if (d->def && d->type != OT_BOOL)
		fprintf(f, " (default: %s)", d->def);
	fprintf(f, "\n");
}

void opts_print_help(FILE *f, enum action act)
{
	unsigned int mask = act == ACT_NONE ? OA_ANY : opts_action_mask(act);
	enum opt_id ids[OPT__COUNT];

	if (act == ACT_NONE) {
		opts_print_usage(f);
		fprintf(f, "\nActions:\n");
		for (size_t i = 0; i < sizeof(help_order) / sizeof(help_order[0]); i++)
			fprintf(f, "  %-16s%s\n", opts_action_name(help_order[i]), opts_action_help(help_order[i]));
		fprintf(f, "\nOptions:\n");
	} else {
		fprintf(f, "Usage: criu %s %s\n\n%s.\n\nOptions for %s:\n", opts_action_name(act), usage_of(act),
			opts_action_help(act), opts_action_name(act));
	}
	opt_sorted(ids);
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(ids[i]);

		if (!(d->flags & OF_PLUGINS) && (d->actions & mask))
			print_option(f, d);
	}
	fprintf(f, "\nConfig files, later ones winning: /etc/criu/default.conf, ~/.criu/default.conf,\n"
		   "$CRIU_CONFIG_FILE, -c FILE (which skips the two default files); then the\n"
		   "command line. Each long option is also a key of the INI [global] section.\n"
		   "See criu(8).\n");
}
