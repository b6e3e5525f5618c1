/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to core/plugins: what one loaded plugin is, and the registry of
 * everything the loaded plugins registered (fd kinds, hooks, images, keys).
 *
 * The registry is process-wide because the SDK calls that read it
 * (cp_opt_*, cp_task_*) carry no context. It is written only while a
 * plugin's init() runs and while plugins are unloaded; everything else
 * reads it. Nothing here is thread-safe, and nothing needs to be: plugins
 * are loaded and unloaded by the main thread of criu.
 */
#ifndef CORE_PLUGINS_REGISTRY_H
#define CORE_PLUGINS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <criu/plugin.h>

struct options;

/* A key of [plugin.NAME], declared with cp_register_option(). */
struct plugin_key {
	char *key;
	enum cp_opt_type type;
	char *defval; /* as written in the INI file, or NULL */
	char *help;
	bool def_bool;	   /* defval parsed, for CP_OPT_BOOL */
	long long def_int; /* defval parsed, for CP_OPT_INT */
};

/* An image file declared with cp_register_image(). */
struct plugin_image {
	char *name;
	uint32_t magic;
};

struct cp_plugin {
	const struct cp_plugin_desc *desc; /* lives in the plugin's .so */
	char *name;			   /* a copy of desc->name, valid after dlclose() */
	char *path;			   /* the file it was loaded from */
	void *handle;			   /* from dlopen(), or NULL for a plugin linked in (tests) */
	void *data;			   /* cp_plugin_set_data() */
	void (*free_fn)(void *);
	bool registering; /* inside init(): cp_register_*() are allowed */
	bool started;	  /* init() succeeded: fini() is due */
	struct plugin_key *keys;
	size_t nkeys;
	struct plugin_image *images;
	size_t nimages;
};

/* One fd kind, as registered (the ops are copied and zero-extended). */
struct plugin_fd_kind {
	struct cp_plugin *owner;
	struct cp_fd_ops ops;
	const struct cp_fd_ops *registered; /* the plugin's own ops, to find it by (cp_file_dump_as) */
};

/*
 * Make a plugin object for DESC, loaded from PATH with dlopen HANDLE
 * (which it then owns: plugin_stop() closes it). Does not check DESC; the
 * loader does. Returns NULL (errno ENOMEM) on failure.
 */
struct cp_plugin *plugin_new(const struct cp_plugin_desc *desc, const char *path, void *handle);
/*
 * Append P to the loaded plugins and call its init(). If init() fails, P
 * is removed, its registrations dropped and P freed (its fini() is not
 * called: init() undoes its own work). Returns 0 or the negative errno.
 */
int plugin_start(struct cp_plugin *p);
/* fini(), free the data, drop P's registrations, dlclose, free P. */
void plugin_stop(struct cp_plugin *p);
/* plugin_stop() every loaded plugin, last loaded first. */
void plugin_stop_all(void);
/* Free P when it was never started (a load that failed before init). */
void plugin_free(struct cp_plugin *p);

/* The loaded plugin named NAME, or NULL. */
struct cp_plugin *plugin_find(const char *name);
/* The I-th loaded plugin in load order, or NULL past the end. */
struct cp_plugin *plugin_at(size_t i);

/*
 * Call the plugin's own code with its name set for logging. Use as
 *   const char *old = plugin_enter(p); ... plugin_leave(old);
 */
const char *plugin_enter(const struct cp_plugin *p);
void plugin_leave(const char *old);

/*
 * An error about what plugin P asked of the SDK: logged with P's name in
 * front, as the plugin's own lines are, wherever it was called from.
 */
#define plugin_pr_err(p, fmt, ...)                         \
	do {                                               \
		const char *plugin_old_ = plugin_enter(p); \
		pr_err(fmt, ##__VA_ARGS__);                \
		plugin_leave(plugin_old_);                 \
	} while (0)

/* Are registrations allowed now? Logs the error naming WHAT when not. */
int plugin_check_registering(const struct cp_plugin *p, const char *what);

/* Hooks: the I-th hook of STAGE, in load order, or false past the end. */
bool plugin_hook_at(enum cp_stage stage, size_t i, struct cp_plugin **owner, cp_hook_fn *fn);

/* fd kinds, in registration order (fd.c). */
size_t plugin_fd_kind_count(void);
const struct plugin_fd_kind *plugin_fd_kind_at(size_t i);
/* Drop every fd kind P registered (fd.c). */
void plugin_fd_kinds_drop(const struct cp_plugin *p);

/* Keys (keys.c). */
const struct plugin_key *plugin_key_find(const struct cp_plugin *p, const char *key);
const char *plugin_opt_type_name(enum cp_opt_type type);
void plugin_keys_free(struct cp_plugin *p);
/*
 * Check every [plugin.NAME] key of O against what the loaded plugins
 * declared: an unknown key or a bad value is an error naming the file and
 * line; a section for a plugin that is not loaded is a warning. Returns 0
 * or -EINVAL after logging every problem.
 */
int plugin_keys_check(struct options *o);

/* The options given to plugins_load(), for cp_opt_*() and keys; or NULL. */
struct options *plugin_options(void);
void plugin_set_options(struct options *o);

#endif /* CORE_PLUGINS_REGISTRY_H */
