/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to core/plugins: what the last plugins_load() found, file by
 * file, for `criu plugins` and the tests. Valid until plugins_unload().
 */
#ifndef CORE_PLUGINS_LOADER_H
#define CORE_PLUGINS_LOADER_H

#include <stddef.h>

struct options;

enum plugin_file_state {
	PLUGIN_FILE_LOADED,
	PLUGIN_FILE_REJECTED, /* not a usable plugin, or its init() failed: an error */
	PLUGIN_FILE_SKIPPED,  /* by [plugins] enable/disable, or a duplicate name */
};

struct plugin_file {
	char *path;
	char *name; /* the file name without ".so": the plugin's name */
	enum plugin_file_state state;
	char *reason; /* why it was rejected or skipped; NULL when loaded */
};

/*
 * Load as plugins_load() does, but keep what did load when something
 * failed, so `criu plugins` can show it. Call plugins_unload() after.
 */
int plugin_load_report(struct options *o);

/* The plugin dirs that were searched, as one ':'-separated string, and why. */
const char *plugin_report_dirs(void);
/* "--libdir", "$CRIU_LIBS_DIR" or "the built-in default". */
const char *plugin_report_dirs_source(void);
size_t plugin_report_count(void);
const struct plugin_file *plugin_report_at(size_t i);

#endif /* CORE_PLUGINS_LOADER_H */
