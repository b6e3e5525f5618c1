// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * --show-config: the effective configuration as INI, every option with
 * its value and, after a ';' (inih's inline comment), where the value
 * came from. Options that are unset are printed as comments, so the
 * output can be read back as a config file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criu/log.h>

#include "options/priv.h"

/* Values and origins start at these columns. */
#define SHOW_ORIGIN_COL 40

void opt_origin_format(const struct opt_origin *org, char *buf, size_t len)
{
	switch (org ? org->kind : OPT_ORIGIN_DEFAULT) {
	case OPT_ORIGIN_DEFAULT:
		snprintf(buf, len, "default");
		break;
	case OPT_ORIGIN_FILE:
		snprintf(buf, len, "%s:%d", org->file ? org->file : "?", org->line);
		break;
	case OPT_ORIGIN_ENV:
		snprintf(buf, len, "environment %s", org->file ? org->file : "");
		break;
	case OPT_ORIGIN_CLI:
		snprintf(buf, len, "command line");
		break;
	case OPT_ORIGIN_RPC:
		snprintf(buf, len, "RPC");
		break;
	}
}

static void format_size(long long n, char *buf, size_t len)
{
	static const char units[] = "GMK";

	for (int i = 0; i < 3; i++) {
		long long unit = 1LL << (10 * (3 - i));

		if (n && n % unit == 0) {
			snprintf(buf, len, "%lld%c", n / unit, units[i]);
			return;
		}
	}
	snprintf(buf, len, "%lld", n);
}

/*
 * cpu-cap applies on top of the current bits, so write it in a form that
 * gives these bits again when read over the default.
 */
static void format_cpu_cap(long long caps, char *buf, size_t len)
{
	const long long def = OPT_CPU_CAP_FPU | OPT_CPU_CAP_INS;
	bool from_none = (caps & def) != def;

	if (!caps) {
		snprintf(buf, len, "none");
		return;
	}
	if ((caps & OPT_CPU_CAP_ALL) == OPT_CPU_CAP_ALL) {
		snprintf(buf, len, "all");
		return;
	}
	snprintf(buf, len, "%s%s%s%s", from_none ? "none" : "",
		 (caps & OPT_CPU_CAP_FPU) ? (from_none ? ",fpu" : "fpu") : "",
		 (caps & OPT_CPU_CAP_CPU) ? ",cpu" : "", (caps & OPT_CPU_CAP_INS) ? ",ins" : "");
	if (buf[0] == ',')
		memmove(buf, buf + 1, strlen(buf));
}

int opt_format(const struct options *o, enum opt_id id, char *buf, size_t len)
{
	const struct opt_desc *d = opt_desc_get(id);
	const struct opt_value *v;

	if (!o || !d)
		return -EINVAL;
	v = &o->v[id];
	switch (d->type) {
	case OT_FLAG:
	case OT_BOOL:
		snprintf(buf, len, "%s", v->num ? "true" : "false");
		return 0;
	case OT_INT:
	case OT_UINT:
	case OT_COUNTER:
		if (d->type != OT_COUNTER && v->origin.kind == OPT_ORIGIN_DEFAULT && !d->def)
			return -ENOENT;
		snprintf(buf, len, "%lld", v->num);
		return 0;
	case OT_SIZE:
		format_size(v->num, buf, len);
		return 0;
	case OT_CPUCAP:
		format_cpu_cap(v->num, buf, len);
		return 0;
	case OT_STR:
	case OT_ENUM:
		if (!v->str)
			return -ENOENT;
		snprintf(buf, len, "%s", v->str);
		return 0;
	case OT_OPTLIST:
		snprintf(buf, len, "%s", v->on ? "true" : "false");
		return 0;
	case OT_LIST:
	case OT_ARGV:
		return -ENOENT;
	}
	return -EINVAL;
}

static void show_line(FILE *f, const char *name, const char *value, const struct opt_origin *org)
{
	char where[4200];
	int n;

	opt_origin_format(org, where, sizeof(where));
	n = fprintf(f, "%s = %s", name, value);
	fprintf(f, "%*s ; %s\n", n < SHOW_ORIGIN_COL ? SHOW_ORIGIN_COL - n : 0, "", where);
}

static void show_option(const struct options *o, const struct opt_desc *d, FILE *f)
{
	const struct opt_value *v = &o->v[d->id];
	char buf[4096];

	if (d->type == OT_LIST || d->type == OT_ARGV || (d->type == OT_OPTLIST && v->n_items)) {
		for (size_t i = 0; i < v->n_items; i++)
			show_line(f, d->name, v->items[i].text, &v->items[i].origin);
		if (!v->n_items)
			fprintf(f, "; %s (empty)\n", d->name);
		return;
	}
	if (opt_format(o, d->id, buf, sizeof(buf)))
		fprintf(f, "; %s (not set)\n", d->name);
	else
		show_line(f, d->name, buf, &v->origin);
}

static bool shown(const struct opt_desc *d)
{
	return !(d->flags & (OF_CLI | OF_DEPRECATED));
}

int opts_show_config(const struct options *o, FILE *f)
{
	const char *act = opts_action_name(o->action);

	fprintf(f, "; criu effective configuration%s%s%s\n", *act ? " for '" : "", act, *act ? "'" : "");
	fprintf(f, "; config files read:");
	for (size_t i = 0; i < o->n_files; i++)
		fprintf(f, "%s %s", i ? "," : "", o->files[i]);
	fprintf(f, "%s\n[global]\n", o->n_files ? "" : " none");
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);

		if (shown(d) && !(d->flags & OF_PLUGINS))
			show_option(o, d, f);
	}
	fprintf(f, "[plugins]\n");
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);

		if (shown(d) && (d->flags & OF_PLUGINS))
			show_option(o, d, f);
	}
	/* [plugin.NAME] sections, each once, in the order first seen. */
	for (size_t i = 0; i < o->n_kvs; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(o->kvs[j].plugin, o->kvs[i].plugin);
		if (seen)
			continue;
		fprintf(f, "[plugin.%s]\n", o->kvs[i].plugin);
		for (size_t j = i; j < o->n_kvs; j++)
			if (!strcmp(o->kvs[j].plugin, o->kvs[i].plugin))
				show_line(f, o->kvs[j].key, o->kvs[j].value, &o->kvs[j].origin);
	}
	return ferror(f) ? -EIO : 0;
}

void opts_log_config(const struct options *o)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;

	if (cp_log_get_level() < CP_LOG_DEBUG)
		return;
	f = open_memstream(&text, &len);
	if (!f)
		return;
	opts_show_config(o, f);
	if (fclose(f)) {
		free(text);
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		cp_log(CP_LOG_DEBUG, __FILE__, __LINE__, "%s", line);
	free(text);
}
