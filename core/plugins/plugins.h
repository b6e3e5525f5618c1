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

/*
 * Load the enabled plugins from the plugin dir (-L/--libdir, INI libdir,
 * $CRIU_LIBS_DIR, else the configured PLUGINDIR), honouring [plugins]
 * enable/disable, and check every [plugin.NAME] key against what the
 * plugin declared (FILE:LINE on a bad one). The options stay referenced
 * for cp_opt_*() until plugins_unload(). Returns 0 or a negative errno.
 */
int plugins_load(struct options *o);
/* fini() every plugin in reverse load order and dlclose it. */
void plugins_unload(void);

/* Names of loaded plugins, in load order (for inventory.plugins). */
size_t plugins_count(void);
const char *plugins_name(size_t i);
/* Is a plugin of this name loaded? (restore refuses images that need one that is not) */
bool plugins_is_loaded(const char *name);

/*
 * Run every hook registered for CTX->stage, in load order. Stops at the
 * first failure (not -ENOTSUP) and returns it; 0 if all succeeded.
 */
int plugins_run_hooks(struct cp_hook_ctx *ctx);

/* Find the fd kind that matches FD: 0 and *OPS/*OWNER set, or -ENOTSUP. */
int plugins_match_fd(const struct cp_fd_desc *fd, const struct cp_fd_ops **ops,
		     struct cp_plugin **owner);
/* Find the fd kind registered for FileEntry.type TYPE, or -ENOTSUP. */
int plugins_find_fd_type(uint32_t type, const struct cp_fd_ops **ops, struct cp_plugin **owner);
/* Name of the plugin expected to handle an fd described by LINK, for error messages. */
const char *plugins_hint_for_fd(const struct cp_fd_desc *fd);

/* Call an fd kind's dump, with the plugin named in log lines. */
int plugins_call_fd_dump(struct cp_plugin *owner, const struct cp_fd_ops *ops,
			 const struct cp_fd_desc *fd, uint32_t id, void **payload, size_t *payload_len);
int plugins_call_fd_open(struct cp_plugin *owner, const struct cp_fd_ops *ops,
			 const struct cp_file *file, int *out_fd);

#endif /* CORE_PLUGINS_PLUGINS_H */
