/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the core: loading plugins and calling what they registered.
 * The SDK side (cp_register_*, cp_opt_*) is in include/criu/plugin.h.
 */
#ifndef CORE_PLUGINS_PLUGINS_H
#define CORE_PLUGINS_PLUGINS_H

#include <stdbool.h>
#include <stddef.h>

#include <criu/plugin.h>

struct options;
struct plugin_fd_kind; /* registry.h: one registered fd kind */

/*
 * Load the enabled plugins from the plugin dir (-L/--libdir, INI libdir,
 * $CRIU_LIBS_DIR, else the configured PLUGINDIR; the setting may list
 * several dirs separated by ':', searched in order), honouring [plugins]
 * enable/disable, and check every [plugin.NAME] key against what the
 * plugin declared (FILE:LINE on a bad one). Files are loaded in name
 * order. The options stay referenced for cp_opt_*() until
 * plugins_unload(); O may be NULL (no config: load everything found).
 *
 * Every file is tried, so one run reports every problem (a bad plugin
 * file is an error naming it; a second file of a loaded plugin's name, a
 * warning). Returns 0, or the first error with nothing left loaded.
 */
int plugins_load(struct options *o);
/* fini() every plugin in reverse load order and dlclose it. Idempotent. */
void plugins_unload(void);

/* Names of loaded plugins, in load order (for inventory.plugins). */
size_t plugins_count(void);
const char *plugins_name(size_t i);
/* Is a plugin of this name loaded? (restore refuses images that need one that is not) */
bool plugins_is_loaded(const char *name);

/*
 * Run every hook registered for CTX->stage, in load order, each with its
 * plugin's name on its log lines; sets CTX->size. -ENOTSUP from a hook
 * counts as success. Stops at the first failure and returns it, or at the
 * first CP_RETRY and returns CP_RETRY (the caller decides when to call
 * again); 0 if all succeeded. The stages that undo or report
 * (NETWORK_UNLOCK, POST_DUMP, POST_RESUME) run every hook whatever
 * happens and return the first failure.
 */
int plugins_run_hooks(struct cp_hook_ctx *ctx);

/*
 * Find the fd kind that matches FD, trying kinds in load order: 0 with
 * *OPS and *OWNER set, -ENOTSUP when no kind claims it, or the first
 * other error a match() returned (logged).
 */
int plugins_match_fd(const struct cp_fd_desc *fd, const struct cp_fd_ops **ops, struct cp_plugin **owner);
/* The kind plugin P registered with REGISTERED (its own ops), or -ENOENT. */
int plugins_find_fd_kind(const struct cp_plugin *p, const struct cp_fd_ops *registered,
			 const struct cp_fd_ops **ops, struct cp_plugin **owner);
/* Find the fd kind registered for FileEntry.type TYPE, or -ENOTSUP. */
int plugins_find_fd_type(uint32_t type, const struct cp_fd_ops **ops, struct cp_plugin **owner);
/*
 * Name of the plugin expected to handle FD (guessed from its link and
 * mode, for error messages), or NULL when no plugin would.
 */
const char *plugins_hint_for_fd(const struct cp_fd_desc *fd);

/*
 * Call an fd kind's dump, with the plugin named in log lines. On success
 * *PAYLOAD is the packed message (malloc'd: the caller frees it) and
 * *PAYLOAD_LEN its size. A dump that packs nothing is an error.
 */
int plugins_call_fd_dump(struct cp_plugin *owner, const struct cp_fd_ops *ops, const struct cp_fd_desc *fd, uint32_t id,
			 void **payload, size_t *payload_len);
/* Call an fd kind's open: 0 and *OUT_FD, CP_RETRY, or a negative errno. */
int plugins_call_fd_open(struct cp_plugin *owner, const struct cp_fd_ops *ops, const struct cp_file *file, int *out_fd);
/*
 * Open FILE with the first fd kind of its type that accepts it (kinds that
 * share a type answer -ENOTSUP for entries that are not theirs). Returns 0
 * with *OUT_FD set (and *KIND, if KIND is not NULL, the kind that opened
 * it), CP_RETRY, or a negative errno (logged).
 */
int plugins_open_file(const struct cp_file *file, int *out_fd, const struct plugin_fd_kind **kind);
/*
 * Call the post_open() of KIND (the kind that opened FILE, see
 * plugins_open_file()) with the task's fd FD, if it has one. 0 or a
 * negative errno (logged, naming the plugin, the file id and the fd).
 */
int plugins_post_open_file(const struct plugin_fd_kind *kind, const struct cp_file *file, int fd);

/*
 * The group key of FILE from the group() of the first kind of its type
 * (ABI 1.2): 0 with *KEY and *OWNER set (*KEY = 0, *OWNER = NULL: no
 * group), or a negative errno (logged).
 */
int plugins_file_group(const struct cp_file *file, uint64_t *key, const struct cp_plugin **owner);
/*
 * What cp_file_dump_as(), cp_file_open_id(), cp_shmem_dump() and
 * cp_shmem_restore() call (filesvc.c): the dump sets DUMP_AS and
 * SHMEM_DUMP while it dumps a task's files, the restore OPEN_ID and
 * SHMEM_RESTORE while it opens them, ARG being their context. NULL
 * clears them.
 */
struct plugin_file_services {
	void *arg;
	int (*dump_as)(void *arg, const struct cp_fd_desc *fd, const struct cp_fd_ops *ops,
		       struct cp_plugin *owner, uint32_t *id);
	int (*open_id)(void *arg, uint32_t id, unsigned int flags, int *out_fd);
	int (*shmem_dump)(void *arg, int fd, uint64_t shmid, uint64_t size);
	int (*shmem_restore)(void *arg, int fd, uint64_t shmid, uint64_t size);
};
void plugins_set_file_services(const struct plugin_file_services *s);

/* "dump-init", "post-resume" ...: the name `criu plugins` shows for STAGE. */
const char *plugins_stage_name(enum cp_stage stage);

#endif /* CORE_PLUGINS_PLUGINS_H */
