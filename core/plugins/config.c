// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The plugin code's only window on the options table (core/options).
 * Options are looked up by long name, so this file does not depend on how
 * the table names its rows.
 */
#include <errno.h>
#include <limits.h>

#include "options/options.h"
#include "plugins/config.h"

static const struct opt_desc *desc_of_type(const char *name, const enum opt_type *types, size_t ntypes, int *err)
{
	const struct opt_desc *d = opt_find(name);

	*err = -ENOENT;
	if (!d)
		return NULL;
	*err = -EINVAL;
	for (size_t i = 0; i < ntypes; i++) {
		if (d->type == types[i]) {
			*err = 0;
			return d;
		}
	}
	return NULL;
}

#define DESC_OF_TYPE(name, err, ...)                               \
	desc_of_type(name, (const enum opt_type[]){ __VA_ARGS__ }, \
		     sizeof((const enum opt_type[]){ __VA_ARGS__ }) / sizeof(enum opt_type), err)

const char *plugin_cfg_libdir(struct options *o)
{
	const struct opt_desc *d = opt_find("libdir");

	return d ? opt_str(o, d->id) : NULL;
}

int plugin_cfg_list(struct options *o, enum plugin_cfg_list which, size_t i, const char **out)
{
	const struct opt_desc *d = opt_find(which == PLUGIN_CFG_ENABLE ? "enable" : "disable");
	size_t n;

	/* A table without the key has nothing to enable or disable. */
	if (!d)
		return out ? -ERANGE : 0;
	if (d->type != OT_LIST && d->type != OT_STR)
		return -EINVAL;
	if (d->type == OT_STR) {
		const char *s = opt_str(o, d->id);

		n = s ? 1 : 0;
		if (!out)
			return (int)n;
		if (i >= n)
			return -ERANGE;
		*out = s;
		return 0;
	}
	n = opt_list_len(o, d->id);
	if (!out)
		return n > INT_MAX ? INT_MAX : (int)n;
	if (i >= n)
		return -ERANGE;
	*out = opt_list_at(o, d->id, i);
	return *out ? 0 : -ERANGE;
}

int plugin_cfg_kv(struct options *o, size_t i, struct plugin_kv *kv)
{
	const struct opt_plugin_kv *kvs;
	size_t n = 0;

	kvs = opts_plugin_kvs(o, &n);
	if (!kvs || i >= n)
		return -ERANGE;
	kv->plugin = kvs[i].plugin;
	kv->key = kvs[i].key;
	kv->value = kvs[i].value;
	kv->file = kvs[i].origin.file ? kvs[i].origin.file : "(config)";
	kv->line = kvs[i].origin.line;
	return 0;
}

int plugin_cfg_core_bool(struct options *o, const char *name, bool *out)
{
	const struct opt_desc *d;
	int err;

	d = DESC_OF_TYPE(name, &err, OT_FLAG, OT_BOOL, OT_OPTLIST);
	if (d)
		*out = opt_bool(o, d->id);
	return err;
}

int plugin_cfg_core_int(struct options *o, const char *name, long long *out)
{
	const struct opt_desc *d;
	int err;

	/* An enum reads as the index of its value, as opt_int() defines. */
	d = DESC_OF_TYPE(name, &err, OT_INT, OT_UINT, OT_SIZE, OT_COUNTER, OT_CPUCAP, OT_ENUM);
	if (d)
		*out = opt_int(o, d->id);
	return err;
}

int plugin_cfg_core_string(struct options *o, const char *name, const char **out)
{
	const struct opt_desc *d;
	int err;

	d = DESC_OF_TYPE(name, &err, OT_STR, OT_ENUM);
	if (d)
		*out = opt_str(o, d->id);
	return err;
}

int plugin_cfg_core_list(struct options *o, const char *name, size_t i, const char **out)
{
	const struct opt_desc *d;
	size_t n;
	int err;

	d = DESC_OF_TYPE(name, &err, OT_LIST, OT_OPTLIST);
	if (!d)
		return err;
	n = opt_list_len(o, d->id);
	if (!out)
		return n > INT_MAX ? INT_MAX : (int)n;
	if (i >= n)
		return -ERANGE;
	*out = opt_list_at(o, d->id, i);
	return 0;
}
