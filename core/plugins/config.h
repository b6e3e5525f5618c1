/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to core/plugins: everything the plugin code reads from the
 * options table, in one place, so the rest of core/plugins does not
 * depend on how core/options stores things.
 */
#ifndef CORE_PLUGINS_CONFIG_H
#define CORE_PLUGINS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct options;

/* One "key = value" line of a [plugin.NAME] section. */
struct plugin_kv {
	const char *plugin; /* NAME of the section */
	const char *key;
	const char *value;
	const char *file; /* the config file it came from */
	int line;
};

/* The plugin dir setting (-L/--libdir or INI libdir), or NULL when unset. */
const char *plugin_cfg_libdir(struct options *o);

enum plugin_cfg_list {
	PLUGIN_CFG_ENABLE,  /* [plugins] enable */
	PLUGIN_CFG_DISABLE, /* [plugins] disable */
};

/*
 * The I-th value of [plugins] enable or disable, as given (a value may
 * still hold several comma-separated names). Returns the number of
 * values when OUT is NULL, else 0, or -ERANGE past the end.
 */
int plugin_cfg_list(struct options *o, enum plugin_cfg_list which, size_t i, const char **out);

/* The I-th [plugin.*] line, in file order: 0, or -ERANGE past the end. */
int plugin_cfg_kv(struct options *o, size_t i, struct plugin_kv *kv);

/*
 * A core option by its long name ("tcp-established"): 0 and *OUT set;
 * -ENOENT if there is no such option, -EINVAL if it is of another type.
 * plugin_cfg_core_list() returns the number of values when OUT is NULL.
 */
int plugin_cfg_core_bool(struct options *o, const char *name, bool *out);
int plugin_cfg_core_int(struct options *o, const char *name, long long *out);
int plugin_cfg_core_string(struct options *o, const char *name, const char **out);
int plugin_cfg_core_list(struct options *o, const char *name, size_t i, const char **out);

#endif /* CORE_PLUGINS_CONFIG_H */
