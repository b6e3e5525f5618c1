// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The store of option values and the one value parser every door uses:
 * the command line, config files and RPC all end in opt_parse().
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_PREFIX "options: "
#include <criu/log.h>

#include "options/priv.h"

static const struct opt_origin origin_default = { .kind = OPT_ORIGIN_DEFAULT };

const char *opts_intern(struct options *o, const char *name)
{
	char *copy;

	if (!name)
		return NULL;
	for (size_t i = 0; i < o->n_names; i++)
		if (!strcmp(o->names[i], name))
			return o->names[i];
	if (o->n_names == o->cap_names) {
		size_t cap = o->cap_names ? o->cap_names * 2 : 8;
		char **n = realloc(o->names, cap * sizeof(*n));

		if (!n)
			return NULL;
		o->names = n;
		o->cap_names = cap;
	}
	copy = strdup(name);
	if (!copy)
		return NULL;
	o->names[o->n_names++] = copy;
	return copy;
}

int opts_note_file(struct options *o, const char *path)
{
	const char *name = opts_intern(o, path);

	if (!name)
		return -ENOMEM;
	if (o->n_files == o->cap_files) {
		size_t cap = o->cap_files ? o->cap_files * 2 : 4;
		const char **n = realloc(o->files, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		o->files = n;
		o->cap_files = cap;
	}
	o->files[o->n_files++] = name;
	return 0;
}

/* Copy ORG, with its file name owned by O. */
int opts_origin_copy(struct options *o, const struct opt_origin *org, struct opt_origin *out)
{
	if (!org)
		org = &origin_default;
	*out = *org;
	if (org->file) {
		out->file = opts_intern(o, org->file);
		if (!out->file)
			return -ENOMEM;
	}
	return 0;
}

void opt_value_clear_items(struct opt_value *v)
{
	for (size_t i = 0; i < v->n_items; i++)
		free(v->items[i].text);
	v->n_items = 0;
}

int opt_value_add_item(struct opt_value *v, const char *text, size_t len, const struct opt_origin *org)
{
	char *copy;

	if (v->n_items == v->cap_items) {
		size_t cap = v->cap_items ? v->cap_items * 2 : 4;
		struct opt_item *n = realloc(v->items, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->items = n;
		v->cap_items = cap;
	}
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	v->items[v->n_items].text = copy;
	v->items[v->n_items].origin = *org;
	v->n_items++;
	v->origin = *org;
	return 0;
}

int opt_value_set_str(struct opt_value *v, const char *text)
{
	char *copy = strdup(text);

	if (!copy)
		return -ENOMEM;
	free(v->str);
	v->str = copy;
	return 0;
}

static int report_set_error(enum opt_id id, int ret, const char *err)
{
	const struct opt_desc *d = opt_desc_get(id);

	if (ret == -ENOMEM)
		pr_err("option '%s': out of memory", d ? d->name : "?");
	else if (ret)
		pr_err("option '%s': %s", d ? d->name : "?", err);
	return ret;
}

int opt_set_text(struct options *o, enum opt_id id, const char *text, const struct opt_origin *org)
{
	char err[OPT_ERR_LEN];

	return report_set_error(id, opt_parse(o, id, text, org, err, sizeof(err)), err);
}

int opt_set_bool(struct options *o, enum opt_id id, bool val, const struct opt_origin *org)
{
	return opt_set_text(o, id, val ? "true" : "false", org);
}

int opt_set_int(struct options *o, enum opt_id id, long long val, const struct opt_origin *org)
{
	const struct opt_desc *d = opt_desc_get(id);
	char text[OPT_ERR_LEN];

	if (d && d->type == OT_CPUCAP) {
		/* An absolute mask: clear, then add the bits. */
		snprintf(text, sizeof(text), "none%s%s%s", (val & OPT_CPU_CAP_FPU) ? ",fpu" : "",
			 (val & OPT_CPU_CAP_CPU) ? ",cpu" : "", (val & OPT_CPU_CAP_INS) ? ",ins" : "");
		return opt_set_text(o, id, text, org);
	}
	if (d && d->type == OT_ENUM) {
		if (val < 0 || val > INT_MAX || opt_enum_name(d->values, (int)val, text, sizeof(text))) {
			pr_err("option '%s': invalid value %lld", d->name, val);
			return -EINVAL;
		}
		return opt_set_text(o, id, text, org);
	}
	snprintf(text, sizeof(text), "%lld", val);
	return opt_set_text(o, id, text, org);
}

int opt_set_str(struct options *o, enum opt_id id, const char *val, const struct opt_origin *org)
{
	const struct opt_desc *d = opt_desc_get(id);

	if (!d || (d->type != OT_STR && d->type != OT_ENUM)) {
		pr_err("option '%s': not a string option", d ? d->name : "?");
		return -EINVAL;
	}
	return opt_set_text(o, id, val, org);
}

int opt_list_add(struct options *o, enum opt_id id, const char *val, const struct opt_origin *org)
{
	const struct opt_desc *d = opt_desc_get(id);
	struct opt_origin own;
	int ret;

	if (!d || (d->type != OT_LIST && d->type != OT_OPTLIST && d->type != OT_ARGV) || !val) {
		pr_err("option '%s': not a list option", d ? d->name : "?");
		return -EINVAL;
	}
	ret = opts_origin_copy(o, org, &own);
	if (!ret)
		ret = opt_value_add_item(&o->v[id], val, strlen(val), &own);
	if (!ret && d->type == OT_OPTLIST)
		o->v[id].on = true;
	return report_set_error(id, ret, "");
}

int opts_plugin_kv_add(struct options *o, const char *plugin, const char *key, const char *value,
		       const struct opt_origin *org)
{
	struct opt_plugin_kv *kv;
	int ret;

	if (o->n_kvs == o->cap_kvs) {
		size_t cap = o->cap_kvs ? o->cap_kvs * 2 : 8;
		struct opt_plugin_kv *n = realloc(o->kvs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		o->kvs = n;
		o->cap_kvs = cap;
	}
	kv = &o->kvs[o->n_kvs];
	ret = opts_origin_copy(o, org, &kv->origin);
	if (ret)
		return ret;
	kv->plugin = strdup(plugin);
	kv->key = strdup(key);
	kv->value = strdup(value);
	if (!kv->plugin || !kv->key || !kv->value) {
		free((char *)kv->plugin);
		free((char *)kv->key);
		free((char *)kv->value);
		return -ENOMEM;
	}
	o->n_kvs++;
	return 0;
}

const struct opt_plugin_kv *opts_plugin_kvs(const struct options *o, size_t *n)
{
	*n = o ? o->n_kvs : 0;
	return o ? o->kvs : NULL;
}

struct options *opts_new(void)
{
	struct options *o = calloc(1, sizeof(*o));
	char err[OPT_ERR_LEN];

	if (!o)
		return NULL;
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);

		if (!d->def)
			continue;
		if (opt_parse(o, i, d->def, &origin_default, err, sizeof(err))) {
			pr_err("option '%s': bad default '%s': %s", d->name, d->def, err);
			opts_free(o);
			return NULL;
		}
	}
	return o;
}

void opts_free(struct options *o)
{
	if (!o)
		return;
	for (int i = 0; i < OPT__COUNT; i++) {
		opt_value_clear_items(&o->v[i]);
		free(o->v[i].items);
		free(o->v[i].str);
	}
	for (size_t i = 0; i < o->n_kvs; i++) {
		free((char *)o->kvs[i].plugin);
		free((char *)o->kvs[i].key);
		free((char *)o->kvs[i].value);
	}
	free(o->kvs);
	for (size_t i = 0; i < o->n_names; i++)
		free(o->names[i]);
	free(o->names);
	free(o->files);
	free(o);
}

void opts_set_action(struct options *o, enum action act)
{
	if (o)
		o->action = act;
}

enum action opts_get_action(const struct options *o)
{
	return o ? o->action : ACT_NONE;
}

static const struct opt_value *value_get(const struct options *o, enum opt_id id)
{
	if (!o || (unsigned int)id >= OPT__COUNT)
		return NULL;
	return &o->v[id];
}

bool opt_bool(const struct options *o, enum opt_id id)
{
	const struct opt_value *v = value_get(o, id);

	if (!v)
		return false;
	switch (opt_desc_get(id)->type) {
	case OT_FLAG:
	case OT_BOOL:
		return v->num != 0;
	case OT_LIST:
		return v->n_items > 0;
	case OT_OPTLIST:
	case OT_ARGV:
		return v->on || v->n_items > 0;
	default:
		return opt_is_set(o, id);
	}
}

long long opt_int(const struct options *o, enum opt_id id)
{
	const struct opt_value *v = value_get(o, id);

	return v ? v->num : 0;
}

const char *opt_str(const struct options *o, enum opt_id id)
{
	const struct opt_value *v = value_get(o, id);

	return v ? v->str : NULL;
}

size_t opt_list_len(const struct options *o, enum opt_id id)
{
	const struct opt_value *v = value_get(o, id);

	return v ? v->n_items : 0;
}

const char *opt_list_at(const struct options *o, enum opt_id id, size_t i)
{
	const struct opt_value *v = value_get(o, id);

	return v && i < v->n_items ? v->items[i].text : NULL;
}

bool opt_is_set(const struct options *o, enum opt_id id)
{
	const struct opt_value *v = value_get(o, id);

	return v && v->origin.kind != OPT_ORIGIN_DEFAULT;
}

const struct opt_origin *opt_origin_get(const struct options *o, enum opt_id id)
{
	const struct opt_value *v = value_get(o, id);

	return v ? &v->origin : NULL;
}

const struct opt_origin *opt_list_origin(const struct options *o, enum opt_id id, size_t i)
{
	const struct opt_value *v = value_get(o, id);

	return v && i < v->n_items ? &v->items[i].origin : NULL;
}
