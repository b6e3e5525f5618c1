/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to core/options: the store behind struct options and the
 * helpers its files share. Nothing outside core/options includes this.
 */
#ifndef CORE_OPTIONS_PRIV_H
#define CORE_OPTIONS_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "options/options.h"

/* One list item, with its own origin (lists accumulate across sources). */
struct opt_item {
	char *text;
	struct opt_origin origin;
};

struct opt_value {
	long long num;	/* booleans, integers, sizes, enum index, cpu-cap bits */
	char *str;	/* strings; the canonical name of an enum value */
	bool on;	/* OT_OPTLIST / OT_ARGV: given */
	struct opt_item *items;
	size_t n_items, cap_items;
	struct opt_origin origin; /* of the value; of the last item for lists */
};

struct options {
	enum action action;
	struct opt_value v[OPT__COUNT];
	struct opt_plugin_kv *kvs;
	size_t n_kvs, cap_kvs;
	/* Owned copies of file and variable names that origins point to. */
	char **names;
	size_t n_names, cap_names;
	/* The config files read, in order (pointers into names). */
	const char **files;
	size_t n_files, cap_files;
};

/* Room for one error message from the value parser. */
#define OPT_ERR_LEN 256

/*
 * The value parser behind opt_set_text(): 0, or -EINVAL with ERR saying
 * what is wrong with the value (without naming the option, so each door
 * can add its own "criu: --tree:" or "FILE:LINE: tree:"), or -ENOMEM.
 */
int opt_parse(struct options *o, enum opt_id id, const char *text, const struct opt_origin *org,
	      char *err, size_t errlen);

/* Helpers of the store, for the parser. */
int opts_origin_copy(struct options *o, const struct opt_origin *org, struct opt_origin *out);
void opt_value_clear_items(struct opt_value *v);
int opt_value_add_item(struct opt_value *v, const char *text, size_t len, const struct opt_origin *org);
int opt_value_set_str(struct opt_value *v, const char *text);

/* Keep a copy of NAME for the lifetime of O; NULL on ENOMEM. */
const char *opts_intern(struct options *o, const char *name);
/* Remember that PATH was read (for --show-config). */
int opts_note_file(struct options *o, const char *path);

/* The OA_* bits of options that make sense for ACT (its INI section). */
unsigned int opts_action_mask(enum action act);

/* Edit distance between two option names (for "did you mean"). */
size_t opt_name_distance(const char *a, const char *b);
/*
 * The closest name to NAME among the long names a user may type on the
 * command line (CLI) or as an INI key (!CLI), into BUF; false if none is close.
 */
bool opt_suggest(const char *name, bool cli, bool with_neg, char *buf, size_t buf_len);

/* Parse an enum VALUES string: the index of TEXT, or -1. */
int opt_enum_index(const char *values, const char *text);
/* The canonical name of enum value IDX into BUF. */
int opt_enum_name(const char *values, int idx, char *buf, size_t len);

/*
 * Reading files and reporting problems with them. In CLI mode a problem is
 * printed on stderr as is; otherwise it goes to the log with pr_err (RPC).
 */
struct opts_diag {
	bool to_stderr;
};
void opts_report(const struct opts_diag *dg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int opts_load_file_diag(struct options *o, const char *path, const struct opts_diag *dg);
/* CRIU's legacy format: "option [value]" lines; BUF is NUL-terminated. */
int legacy_load(struct options *o, const char *path, const char *buf, size_t len, const struct opts_diag *dg);

/* Resolve a long option name as getopt_long does (exact, else unique prefix). */
enum opt_lookup {
	OPT_LOOKUP_OK,
	OPT_LOOKUP_UNKNOWN,
	OPT_LOOKUP_AMBIGUOUS,
};
enum opt_lookup opt_lookup_long(const char *name, size_t len, const struct opt_desc **d, bool *neg,
				char *ambig, size_t ambig_len);

/* Format one option's value as it would be written in a config file. */
int opt_format(const struct options *o, enum opt_id id, char *buf, size_t len);
/* Format a single origin: "default", "FILE:LINE", "command line", ... */
void opt_origin_format(const struct opt_origin *org, char *buf, size_t len);

#endif /* CORE_OPTIONS_PRIV_H */
