// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu plugins: load the plugins as a dump would, then print what was
 * found, what each loaded plugin registered, and which files were
 * rejected or skipped and why.
 */
#include <stdio.h>

#include "actions.h"
#include "plugins/loader.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"

static void print_fd_kinds(FILE *f, const struct cp_plugin *p)
{
	const char *sep = "";

	fprintf(f, "  fd kinds:    ");
	for (size_t i = 0; i < plugin_fd_kind_count(); i++) {
		const struct plugin_fd_kind *k = plugin_fd_kind_at(i);

		if (k->owner != p)
			continue;
		fprintf(f, "%s%s (type %u)", sep, k->ops.name, k->ops.type);
		sep = ", ";
	}
	fprintf(f, "%s\n", *sep ? "" : "none");
}

static void print_hooks(FILE *f, const struct cp_plugin *p)
{
	const char *sep = "";

	fprintf(f, "  hooks:       ");
	for (int s = 0; s < CP_STAGE__MAX; s++) {
		struct cp_plugin *owner;
		unsigned int n = 0;

		for (size_t i = 0; plugin_hook_at(s, i, &owner, NULL); i++)
			n += owner == p;
		if (!n)
			continue;
		fprintf(f, "%s%s", sep, plugins_stage_name(s));
		if (n > 1)
			fprintf(f, " (x%u)", n);
		sep = ", ";
	}
	fprintf(f, "%s\n", *sep ? "" : "none");
}

static void print_images(FILE *f, const struct cp_plugin *p)
{
	fprintf(f, "  images:      ");
	for (size_t i = 0; i < p->nimages; i++)
		fprintf(f, "%s%s (magic 0x%08x)", i ? ", " : "", p->images[i].name, p->images[i].magic);
	fprintf(f, "%s\n", p->nimages ? "" : "none");
}

static void print_keys(FILE *f, const struct cp_plugin *p)
{
	fprintf(f, "  keys:%s\n", p->nkeys ? "" : "        none");
	for (size_t i = 0; i < p->nkeys; i++) {
		const struct plugin_key *k = &p->keys[i];

		fprintf(f, "    %s (%s", k->key, plugin_opt_type_name(k->type));
		if (k->defval)
			fprintf(f, ", default %s", k->defval);
		fprintf(f, ")%s%s\n", k->help ? ": " : "", k->help ? k->help : "");
	}
}

static void print_plugin(FILE *f, const struct cp_plugin *p)
{
	const struct cp_plugin_desc *d = p->desc;

	fprintf(f, "%s %s (plugin ABI %u.%u)\n", p->name, d->version ? d->version : "?", d->abi_major, d->abi_minor);
	fprintf(f, "  file:        %s\n", p->path);
	if (d->description)
		fprintf(f, "  description: %s\n", d->description);
	print_fd_kinds(f, p);
	print_hooks(f, p);
	print_images(f, p);
	print_keys(f, p);
}

static void print_files(FILE *f, enum plugin_file_state state, const char *title)
{
	bool any = false;

	for (size_t i = 0; i < plugin_report_count(); i++) {
		const struct plugin_file *pf = plugin_report_at(i);

		if (pf->state != state)
			continue;
		if (!any)
			fprintf(f, "\n%s:\n", title);
		any = true;
		fprintf(f, "  %s: %s\n", pf->path, pf->reason ? pf->reason : "");
	}
}

int action_plugins(struct options *o, struct action_result *res)
{
	FILE *f = stdout;
	int ret;

	(void)res;
	ret = plugin_load_report(o);

	fprintf(f, "Plugin dir: %s (from %s)\n", plugin_report_dirs() ? plugin_report_dirs() : "?",
		plugin_report_dirs_source() ? plugin_report_dirs_source() : "?");
	fprintf(f, "Plugin ABI of this criu: %d.%d\n", CP_ABI_MAJOR, CP_ABI_MINOR);
	if (!plugins_count())
		fprintf(f, "\nNo plugins loaded.\n");
	for (size_t i = 0; i < plugins_count(); i++) {
		fprintf(f, "\n");
		print_plugin(f, plugin_at(i));
	}
	print_files(f, PLUGIN_FILE_REJECTED, "Rejected");
	print_files(f, PLUGIN_FILE_SKIPPED, "Skipped");
	fflush(f);

	plugins_unload();
	return ret;
}
