// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Config keys: a plugin's own [plugin.NAME] keys (declared in init(),
 * checked against the config files after init()), and read-only access
 * to the core's options by long name.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugins/config.h"
#include "plugins/registry.h"

static const char *const type_names[] = {
	[CP_OPT_BOOL] = "boolean",
	[CP_OPT_INT] = "integer",
	[CP_OPT_STRING] = "string",
	[CP_OPT_LIST] = "list",
};

const char *plugin_opt_type_name(enum cp_opt_type type)
{
	if ((unsigned int)type >= sizeof(type_names) / sizeof(type_names[0]))
		return "unknown";
	return type_names[type];
}

/* The spellings inih users write, as the core options accept them. */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_int(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_value(enum cp_opt_type type, const char *s, bool *b, long long *i)
{
	switch (type) {
	case CP_OPT_BOOL:
		return parse_bool(s, b);
	case CP_OPT_INT:
		return parse_int(s, i);
	case CP_OPT_STRING:
	case CP_OPT_LIST:
		return 0;
	}
	return -EINVAL;
}

/* Keys look like the core's long options: lower case, digits, '-' and '_'. */
static bool key_name_ok(const char *key)
{
	if (!*key)
		return false;
	for (const char *c = key; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

const struct plugin_key *plugin_key_find(const struct cp_plugin *p, const char *key)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (!strcmp(p->keys[i].key, key))
			return &p->keys[i];
	return NULL;
}

void plugin_keys_free(struct cp_plugin *p)
{
	for (size_t i = 0; i < p->nkeys; i++) {
		free(p->keys[i].key);
		free(p->keys[i].defval);
		free(p->keys[i].help);
	}
	free(p->keys);
	p->keys = NULL;
	p->nkeys = 0;
}

static char *strdup_or_null(const char *s, bool *failed)
{
	char *copy;

	if (!s)
		return NULL;
	copy = strdup(s);
	if (!copy)
		*failed = true;
	return copy;
}

CP_EXPORT int cp_register_option(struct cp_plugin *p, const char *key, enum cp_opt_type type, const char *defval,
				 const char *help)
{
	struct plugin_key k = { .type = type }, *keys;
	bool nomem = false;
	int ret;

	ret = plugin_check_registering(p, "cp_register_option()");
	if (ret)
		return ret;
	if (!key || !key_name_ok(key)) {
		plugin_pr_err(p, "bad key name '%s' (use a-z, 0-9, '-' and '_')", key ? key : "(null)");
		return -EINVAL;
	}
	if ((unsigned int)type > CP_OPT_LIST) {
		plugin_pr_err(p, "key '%s' has an unknown type %d", key, (int)type);
		return -EINVAL;
	}
	if (plugin_key_find(p, key)) {
		plugin_pr_err(p, "key '%s' is declared twice", key);
		return -EEXIST;
	}
	if (defval && parse_value(type, defval, &k.def_bool, &k.def_int)) {
		plugin_pr_err(p, "default '%s' of key '%s' is not a valid %s", defval, key, plugin_opt_type_name(type));
		return -EINVAL;
	}

	k.key = strdup_or_null(key, &nomem);
	k.defval = strdup_or_null(defval, &nomem);
	k.help = strdup_or_null(help, &nomem);
	keys = nomem ? NULL : realloc(p->keys, (p->nkeys + 1) * sizeof(*keys));
	if (!keys) {
		free(k.key);
		free(k.defval);
		free(k.help);
		return -ENOMEM;
	}
	p->keys = keys;
	keys[p->nkeys++] = k;
	return 0;
}

/*
 * The value lines of P's KEY in the config, in file order: calls FN for
 * each one until FN returns non-zero, and returns that (or 0).
 */
static int for_each_value(const struct cp_plugin *p, const char *key, int (*fn)(const struct plugin_kv *kv, void *arg),
			  void *arg)
{
	struct options *o = plugin_options();
	struct plugin_kv kv;

	if (!o)
		return 0;
	for (size_t i = 0; !plugin_cfg_kv(o, i, &kv); i++) {
		int ret;

		if (strcmp(kv.plugin, p->name) || strcmp(kv.key, key))
			continue;
		ret = fn(&kv, arg);
		if (ret)
			return ret;
	}
	return 0;
}

static int keep_last(const struct plugin_kv *kv, void *arg)
{
	*(const char **)arg = kv->value;
	return 0;
}

/* The key's declaration, if it is of TYPE: 0, -ENOENT or -EINVAL. */
static int key_get(const struct cp_plugin *p, const char *key, enum cp_opt_type type, const struct plugin_key **out)
{
	const struct plugin_key *k;

	if (!p || !key)
		return -EINVAL;
	k = plugin_key_find(p, key);
	if (!k)
		return -ENOENT;
	if (k->type != type)
		return -EINVAL;
	*out = k;
	return 0;
}

CP_EXPORT int cp_plugin_opt_bool(struct cp_plugin *p, const char *key, bool *out)
{
	const struct plugin_key *k;
	const char *val = NULL;
	bool b;
	int ret;

	ret = key_get(p, key, CP_OPT_BOOL, &k);
	if (ret)
		return ret;
	for_each_value(p, key, keep_last, &val);
	if (!val) {
		*out = k->defval ? k->def_bool : false;
		return 0;
	}
	ret = parse_bool(val, &b);
	if (!ret)
		*out = b;
	return ret;
}

CP_EXPORT int cp_plugin_opt_int(struct cp_plugin *p, const char *key, long long *out)
{
	const struct plugin_key *k;
	const char *val = NULL;
	long long v;
	int ret;

	ret = key_get(p, key, CP_OPT_INT, &k);
	if (ret)
		return ret;
	for_each_value(p, key, keep_last, &val);
	if (!val) {
		*out = k->defval ? k->def_int : 0;
		return 0;
	}
	ret = parse_int(val, &v);
	if (!ret)
		*out = v;
	return ret;
}

CP_EXPORT int cp_plugin_opt_string(struct cp_plugin *p, const char *key, const char **out)
{
	const struct plugin_key *k;
	const char *val = NULL;
	int ret;

	ret = key_get(p, key, CP_OPT_STRING, &k);
	if (ret)
		return ret;
	for_each_value(p, key, keep_last, &val);
	*out = val ? val : k->defval;
	return 0;
}

struct list_pick {
	size_t want, seen;
	const char *val;
};

static int pick_nth(const struct plugin_kv *kv, void *arg)
{
	struct list_pick *pick = arg;

	if (pick->seen++ == pick->want) {
		pick->val = kv->value;
		return 1;
	}
	return 0;
}

/*
 * Values from the config replace the default; the default counts as one
 * value when the config has none.
 */
CP_EXPORT int cp_plugin_opt_list(struct cp_plugin *p, const char *key, size_t i, const char **out)
{
	struct list_pick pick = { .want = out ? i : (size_t)-1 };
	const struct plugin_key *k;
	int ret;

	ret = key_get(p, key, CP_OPT_LIST, &k);
	if (ret)
		return ret;
	for_each_value(p, key, pick_nth, &pick);
	if (!pick.seen && k->defval) {
		pick.seen = 1;
		if (i == 0)
			pick.val = k->defval;
	}
	if (!out)
		return pick.seen > INT_MAX ? INT_MAX : (int)pick.seen;
	if (!pick.val)
		return -ERANGE;
	*out = pick.val;
	return 0;
}

int plugin_keys_check(struct options *o)
{
	const char *warned = NULL;
	struct plugin_kv kv;
	int ret = 0;

	for (size_t i = 0; !plugin_cfg_kv(o, i, &kv); i++) {
		const struct cp_plugin *p = plugin_find(kv.plugin);
		const struct plugin_key *k;
		long long iv;
		bool bv;

		if (!p) {
			/* Once per section, not once per line. */
			if (!warned || strcmp(warned, kv.plugin))
				pr_warn("%s:%d: section [plugin.%s] is for a plugin that is not loaded", kv.file,
					kv.line, kv.plugin);
			warned = kv.plugin;
			continue;
		}
		k = plugin_key_find(p, kv.key);
		if (!k) {
			pr_err("%s:%d: unknown key '%s' in [plugin.%s]", kv.file, kv.line, kv.key, kv.plugin);
			ret = -EINVAL;
			continue;
		}
		if (parse_value(k->type, kv.value, &bv, &iv)) {
			pr_err("%s:%d: bad value '%s' for key '%s' in [plugin.%s]: expected a%s %s", kv.file, kv.line,
			       kv.value, kv.key, kv.plugin, k->type == CP_OPT_INT ? "n" : "",
			       plugin_opt_type_name(k->type));
			ret = -EINVAL;
		}
	}
	return ret;
}

CP_EXPORT int cp_opt_bool(const char *name, bool *out)
{
	if (!name || !out || !plugin_options())
		return name && out ? -ENOENT : -EINVAL;
	return plugin_cfg_core_bool(plugin_options(), name, out);
}

CP_EXPORT int cp_opt_int(const char *name, long long *out)
{
	if (!name || !out || !plugin_options())
		return name && out ? -ENOENT : -EINVAL;
	return plugin_cfg_core_int(plugin_options(), name, out);
}

CP_EXPORT int cp_opt_string(const char *name, const char **out)
{
	if (!name || !out || !plugin_options())
		return name && out ? -ENOENT : -EINVAL;
	return plugin_cfg_core_string(plugin_options(), name, out);
}

CP_EXPORT int cp_opt_list(const char *name, size_t i, const char **out)
{
	if (!name || !plugin_options())
		return name ? -ENOENT : -EINVAL;
	return plugin_cfg_core_list(plugin_options(), name, i, out);
}
