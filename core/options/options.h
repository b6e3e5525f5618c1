/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The options of the criu core: one table (options.def) and one store.
 *
 * Every option exists once, as a row of core/options/options.def. The
 * command line, config files (INI and CRIU's legacy format), the RPC
 * decoder, --help, --show-config, etc/criu.conf and the man page all
 * read that table, and every value goes through one parser,
 * opt_set_text(), whichever door it came in by.
 *
 * A struct options holds one value per option plus where it came from
 * (default, config file and line, environment, command line, RPC), and
 * the raw "key = value" lines of [plugin.NAME] sections, which the plugin
 * loader validates. Nothing here is global: every function takes the
 * struct it works on.
 */
#ifndef CORE_OPTIONS_OPTIONS_H
#define CORE_OPTIONS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The actions of the criu command. */
enum action {
	ACT_NONE = 0,	   /* none given (only --help, --version, --show-config) */
	ACT_DUMP,
	ACT_PRE_DUMP,
	ACT_RESTORE,
	ACT_LAZY_PAGES,
	ACT_CHECK,
	ACT_CPUINFO_DUMP,
	ACT_CPUINFO_CHECK,
	ACT_PAGE_SERVER,
	ACT_SERVICE,
	ACT_SWRK,
	ACT_DEDUP,
	ACT_PLUGINS,	   /* ours: list the plugins found and loaded */
	ACT_EXEC,	   /* deprecated: prints a message and fails */
	ACT_SHOW,	   /* deprecated: prints a message and fails */
	ACT__COUNT
};

/* Bits of the "actions" column: which actions an option applies to. */
#define OA_BIT(act) (1u << (act))
#define OA_D OA_BIT(ACT_DUMP)
#define OA_PD OA_BIT(ACT_PRE_DUMP)
#define OA_R OA_BIT(ACT_RESTORE)
#define OA_LP OA_BIT(ACT_LAZY_PAGES)
#define OA_CHK OA_BIT(ACT_CHECK)
#define OA_CI (OA_BIT(ACT_CPUINFO_DUMP) | OA_BIT(ACT_CPUINFO_CHECK))
#define OA_PS OA_BIT(ACT_PAGE_SERVER)
#define OA_SVC OA_BIT(ACT_SERVICE)
#define OA_SW OA_BIT(ACT_SWRK)
#define OA_DD OA_BIT(ACT_DEDUP)
#define OA_PL OA_BIT(ACT_PLUGINS)
#define OA_ANY (OA_D | OA_PD | OA_R | OA_LP | OA_CHK | OA_CI | OA_PS | OA_SVC | OA_SW | OA_DD | OA_PL)

/* The value type of an option (the "type" column). */
enum opt_type {
	OT_FLAG,    /* boolean without a --no- form; bare = true */
	OT_BOOL,    /* boolean with a --no-NAME form */
	OT_INT,	    /* signed integer; VALUES gives the range "MIN..MAX" */
	OT_UINT,    /* unsigned integer */
	OT_SIZE,    /* bytes, with an optional K, M or G suffix */
	OT_STR,	    /* a string; the last value wins */
	OT_LIST,    /* repeatable string; values accumulate (OF_COMMA: split on ',') */
	OT_ENUM,    /* one of VALUES ("a|b|c"; "b/c" makes c an alias of b) */
	OT_COUNTER, /* verbosity: bare = +1, "vv" = +3, a number sets it */
	OT_CPUCAP,  /* cpu-cap: comma list of fpu, cpu, ins, all, none; '^' negates */
	OT_OPTLIST, /* a flag that may carry a list: --ext-unix-sk[=INO,...] */
	OT_ARGV,    /* --exec-cmd: on the command line the words after the options */
};

/* Flags (the "flags" column). */
#define OF_OPTARG 0x01	   /* the argument is optional; on the CLI only when attached */
#define OF_COMMA 0x02	   /* list values are split on commas */
#define OF_CLI 0x04	   /* command line only: not in config files nor --show-config */
#define OF_PLUGINS 0x08	   /* INI only, in the [plugins] section */
#define OF_DEPRECATED 0x10 /* removed: using it is an error that says so */

/* CPU capability bits of cpu-cap, as in CRIU and the RPC cpu_cap field. */
#define OPT_CPU_CAP_FPU 0x1
#define OPT_CPU_CAP_CPU 0x2
#define OPT_CPU_CAP_INS 0x4
#define OPT_CPU_CAP_ALL (OPT_CPU_CAP_FPU | OPT_CPU_CAP_CPU | OPT_CPU_CAP_INS)

enum opt_id {
#define OPT(id, name, sh, type, flags, def, values, actions, rpc, setter, arg, help) OPT_##id,
#include "options/options.def"
#undef OPT
	OPT__COUNT
};

/* One row of the table. */
struct opt_desc {
	enum opt_id id;
	const char *name;	/* long name without "--"; also the INI key */
	char short_name;	/* 0: none */
	enum opt_type type;
	unsigned int flags;	/* OF_* */
	const char *def;	/* default, written as in a config file; NULL: unset */
	const char *values;	/* enum values, or an integer range "MIN..MAX"; NULL */
	unsigned int actions;	/* OA_* bits */
	int rpc_field;		/* criu_opts field number, 0 if none */
	const char *lib_setter; /* libcriu setter, NULL if none */
	const char *arg;	/* argument name for --help ("PID"), NULL: none */
	const char *help;	/* one line */
};

enum opt_origin_kind {
	OPT_ORIGIN_DEFAULT = 0,
	OPT_ORIGIN_FILE,
	OPT_ORIGIN_ENV,
	OPT_ORIGIN_CLI,
	OPT_ORIGIN_RPC,
};

/*
 * Where a value came from. FILE is the config file (FILE kind) or the
 * environment variable (ENV kind); the struct options keeps its own copy,
 * so callers may pass a temporary string.
 */
struct opt_origin {
	enum opt_origin_kind kind;
	const char *file;
	int line;
};

/* One line of a [plugin.NAME] section, kept raw for the plugin loader. */
struct opt_plugin_kv {
	const char *plugin; /* NAME */
	const char *key;
	const char *value;
	struct opt_origin origin;
};

struct options;

/* The table. */
const struct opt_desc *opt_desc_get(enum opt_id id);
/* By exact long name (also INI-only names such as "enable"); NULL if none. */
const struct opt_desc *opt_find(const char *long_name);
/* The option whose RPC criu_opts field is FIELD (the first one), or NULL. */
const struct opt_desc *opt_find_rpc(int field);
/* "dump", "pre-dump", "cpuinfo dump", ... ("" for ACT_NONE). */
const char *opts_action_name(enum action act);

/* A new store with every default applied; NULL on ENOMEM. */
struct options *opts_new(void);
void opts_free(struct options *o);

/*
 * The action the options are for: it picks the INI section that
 * overrides [global] and heads --show-config. opts_parse_cmdline() sets it.
 */
void opts_set_action(struct options *o, enum action act);
enum action opts_get_action(const struct options *o);

/*
 * Reading. opt_bool: booleans; for lists, "given or not empty". opt_int:
 * integers, sizes in bytes, the verbosity level, the cpu-cap bits, the
 * index of an enum value in VALUES (manage-cgroups: that is the RPC
 * criu_cg_mode; pre-dump-mode and network-lock: RPC value - 1). opt_str:
 * strings and enum names; NULL when unset or for other types. Strings stay
 * owned by O.
 */
bool opt_bool(const struct options *o, enum opt_id id);
long long opt_int(const struct options *o, enum opt_id id);
const char *opt_str(const struct options *o, enum opt_id id);
size_t opt_list_len(const struct options *o, enum opt_id id);
const char *opt_list_at(const struct options *o, enum opt_id id, size_t i);
/* Set by anything other than the default. */
bool opt_is_set(const struct options *o, enum opt_id id);
/* Where the value (for lists: the last item) came from. */
const struct opt_origin *opt_origin_get(const struct options *o, enum opt_id id);
/* Where list item I came from. */
const struct opt_origin *opt_list_origin(const struct options *o, enum opt_id id, size_t i);

/*
 * The single value parser. TEXT is the value as written on the command
 * line or in a config file; NULL means "given without a value" (a flag,
 * or the bare form of an optional argument). Lists append (split on
 * commas for OF_COMMA lists). Returns 0, or -EINVAL after logging
 * "option 'NAME': what is wrong" with pr_err.
 */
int opt_set_text(struct options *o, enum opt_id id, const char *text, const struct opt_origin *org);
/*
 * Typed setters for the RPC decoder. opt_set_int takes the same numbers
 * opt_int returns (for cpu-cap the absolute bit mask). opt_set_str
 * accepts strings and enum names. opt_list_add appends one item as is
 * (no comma split). Same return values as opt_set_text.
 */
int opt_set_bool(struct options *o, enum opt_id id, bool val, const struct opt_origin *org);
int opt_set_int(struct options *o, enum opt_id id, long long val, const struct opt_origin *org);
int opt_set_str(struct options *o, enum opt_id id, const char *val, const struct opt_origin *org);
int opt_list_add(struct options *o, enum opt_id id, const char *val, const struct opt_origin *org);

/* The [plugin.NAME] lines, in the order they were read. */
const struct opt_plugin_kv *opts_plugin_kvs(const struct options *o, size_t *n);
int opts_plugin_kv_add(struct options *o, const char *plugin, const char *key, const char *value,
		       const struct opt_origin *org);

/*
 * Read one config file into O (INI if it has a [section] line, else the
 * legacy format), for the action set with opts_set_action(). A bad line is
 * reported as "FILE:LINE: what is wrong" with pr_err. Returns 0, -ENOENT
 * if the file does not exist, -EINVAL on a bad line, or another -errno.
 * The RPC config_file (criu_opts #51) is read with this.
 */
int opts_load_file(struct options *o, const char *path);

/* The effective configuration as INI, each value commented with its origin. */
int opts_show_config(const struct options *o, FILE *f);
/* The same text, in the log at debug level (-v4). */
void opts_log_config(const struct options *o);

/* What the command line asked for besides options. */
struct cmdline {
	enum action action;
	int swrk_fd;	      /* criu swrk FD */
	bool help;	      /* -h/--help (criu ACTION --help lists that action's options) */
	bool version;	      /* -V/--version */
	bool show_config;     /* --show-config */
	int exec_argc;	      /* --exec-cmd: the command and its arguments */
	char **exec_argv;     /* points into argv; NULL-terminated copy of pointers */
};

/*
 * Parse the command line: collect options and the action, read the config
 * files in CRIU's order (built-in defaults, /etc/criu/default.conf,
 * ~/.criu/default.conf, $CRIU_CONFIG_FILE, -c/--config FILE, then the
 * command line), and run the post-parse checks. $CRIU_DEFAULT_CONFIG_DIR
 * replaces /etc/criu (for tests).
 *
 * Errors are printed on stderr in the CLI's words ("criu: ...",
 * "FILE:LINE: ...") and end in -EINVAL (exit status 1). On success *OUT
 * is a new store (free with opts_free) and CMD is filled; with --help or
 * --version no config file is read.
 */
int opts_parse_cmdline(int argc, char **argv, struct options **out, struct cmdline *cmd);
void cmdline_free(struct cmdline *cmd);

/* criu --help (ACT_NONE) or criu ACTION --help. */
void opts_print_help(FILE *f, enum action act);
/* The short usage for a missing or unknown command. */
void opts_print_usage(FILE *f);

#endif /* CORE_OPTIONS_OPTIONS_H */
