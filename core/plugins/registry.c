// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The registry of loaded plugins: their life cycle (init, fini, unload),
 * private data, images and stage hooks, and running the hooks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"

struct plugin_hook {
	struct cp_plugin *owner;
	cp_hook_fn fn;
};

static struct {
	struct cp_plugin **plugins; /* load order */
	size_t nplugins;
	struct plugin_hook *hooks[CP_STAGE__MAX];
	size_t nhooks[CP_STAGE__MAX];
	struct options *opts;
} reg;

static const char *const stage_names[CP_STAGE__MAX] = {
	[CP_STAGE_DUMP_INIT] = "dump-init",
	[CP_STAGE_DUMP_TASK] = "dump-task",
	[CP_STAGE_DUMP_NS] = "dump-ns",
	[CP_STAGE_NETWORK_LOCK] = "network-lock",
	[CP_STAGE_NETWORK_UNLOCK] = "network-unlock",
	[CP_STAGE_POST_DUMP] = "post-dump",
	[CP_STAGE_RESTORE_INIT] = "restore-init",
	[CP_STAGE_RESTORE_PRE_FORK] = "restore-pre-fork",
	[CP_STAGE_RESTORE_TASK] = "restore-task",
	[CP_STAGE_POST_RESTORE] = "post-restore",
	[CP_STAGE_PRE_RESUME] = "pre-resume",
	[CP_STAGE_POST_RESUME] = "post-resume",
	[CP_STAGE_RESTORE_TASK_FDS] = "restore-task-fds",
};

const char *plugins_stage_name(enum cp_stage stage)
{
	if ((unsigned int)stage >= CP_STAGE__MAX)
		return "unknown";
	return stage_names[stage];
}

struct options *plugin_options(void)
{
	return reg.opts;
}

void plugin_set_options(struct options *o)
{
	reg.opts = o;
}

const char *plugin_enter(const struct cp_plugin *p)
{
	return log_set_plugin(p->name);
}

void plugin_leave(const char *old)
{
	log_set_plugin(old);
}

int plugin_check_registering(const struct cp_plugin *p, const char *what)
{
	if (!p) {
		pr_err("%s called without a plugin handle", what);
		return -EINVAL;
	}
	if (!p->registering) {
		plugin_pr_err(p, "%s called outside init()", what);
		return -EPERM;
	}
	return 0;
}

struct cp_plugin *plugin_new(const struct cp_plugin_desc *desc, const char *path, void *handle)
{
	struct cp_plugin *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		goto err;
	p->name = strdup(desc->name);
	if (!p->name)
		goto err_free;
	p->path = strdup(path ? path : "(built in)");
	if (!p->path)
		goto err_name;
	p->desc = desc;
	p->handle = handle;
	return p;

err_name:
	free(p->name);
err_free:
	free(p);
err:
	errno = ENOMEM;
	return NULL;
}

static void plugin_images_free(struct cp_plugin *p)
{
	for (size_t i = 0; i < p->nimages; i++)
		free(p->images[i].name);
	free(p->images);
	p->images = NULL;
	p->nimages = 0;
}

void plugin_free(struct cp_plugin *p)
{
	if (!p)
		return;
	plugin_keys_free(p);
	plugin_images_free(p);
	if (p->handle)
		dlclose(p->handle);
	free(p->path);
	free(p->name);
	free(p);
}

static void plugin_hooks_drop(const struct cp_plugin *p)
{
	for (int s = 0; s < CP_STAGE__MAX; s++) {
		size_t n = 0;

		for (size_t i = 0; i < reg.nhooks[s]; i++)
			if (reg.hooks[s][i].owner != p)
				reg.hooks[s][n++] = reg.hooks[s][i];
		reg.nhooks[s] = n;
		if (!n) {
			free(reg.hooks[s]);
			reg.hooks[s] = NULL;
		}
	}
}

static void plugin_data_free(struct cp_plugin *p)
{
	void (*free_fn)(void *) = p->free_fn;
	void *data = p->data;
	const char *old;

	p->data = NULL;
	p->free_fn = NULL;
	if (!free_fn || !data)
		return;
	old = plugin_enter(p);
	free_fn(data);
	plugin_leave(old);
}

static void plugin_unlink(const struct cp_plugin *p)
{
	size_t n = 0;

	for (size_t i = 0; i < reg.nplugins; i++)
		if (reg.plugins[i] != p)
			reg.plugins[n++] = reg.plugins[i];
	reg.nplugins = n;
	if (!n) {
		free(reg.plugins);
		reg.plugins = NULL;
	}
}

/* Forget P everywhere and free it; the plugin's code is not called again. */
static void plugin_discard(struct cp_plugin *p)
{
	plugin_data_free(p);
	plugin_hooks_drop(p);
	plugin_fd_kinds_drop(p);
	plugin_unlink(p);
	plugin_free(p);
}

int plugin_start(struct cp_plugin *p)
{
	struct cp_plugin **plugins;
	const char *old;
	int ret;

	plugins = realloc(reg.plugins, (reg.nplugins + 1) * sizeof(*plugins));
	if (!plugins) {
		pr_err("out of memory loading plugin %s (%s)", p->name, p->path);
		plugin_free(p);
		return -ENOMEM;
	}
	reg.plugins = plugins;
	reg.plugins[reg.nplugins++] = p;

	p->registering = true;
	old = plugin_enter(p);
	ret = p->desc->init(p);
	plugin_leave(old);
	p->registering = false;

	if (ret) {
		if (ret > 0) {
			pr_err("plugin %s (%s): init() returned %d, not 0 or a negative errno", p->name, p->path, ret);
			ret = -EINVAL;
		} else {
			pr_err("plugin %s (%s): init() failed: %s", p->name, p->path, strerror(-ret));
		}
		plugin_discard(p);
		return ret;
	}
	p->started = true;
	pr_debug("loaded plugin %s %s from %s", p->name, p->desc->version ? p->desc->version : "", p->path);
	return 0;
}

void plugin_stop(struct cp_plugin *p)
{
	if (p->started && p->desc->fini) {
		const char *old = plugin_enter(p);

		p->desc->fini(p);
		plugin_leave(old);
	}
	p->started = false;
	pr_debug("unloading plugin %s", p->name);
	plugin_discard(p);
}

void plugin_stop_all(void)
{
	while (reg.nplugins)
		plugin_stop(reg.plugins[reg.nplugins - 1]);
}

struct cp_plugin *plugin_find(const char *name)
{
	for (size_t i = 0; i < reg.nplugins; i++)
		if (!strcmp(reg.plugins[i]->name, name))
			return reg.plugins[i];
	return NULL;
}

struct cp_plugin *plugin_at(size_t i)
{
	return i < reg.nplugins ? reg.plugins[i] : NULL;
}

size_t plugins_count(void)
{
	return reg.nplugins;
}

const char *plugins_name(size_t i)
{
	return i < reg.nplugins ? reg.plugins[i]->name : NULL;
}

bool plugins_is_loaded(const char *name)
{
	return name && plugin_find(name) != NULL;
}

CP_EXPORT const char *cp_plugin_name(const struct cp_plugin *p)
{
	return p ? p->name : NULL;
}

CP_EXPORT void cp_plugin_set_data(struct cp_plugin *p, void *data, void (*free_fn)(void *))
{
	if (!p)
		return;
	/* Replacing the data releases the old one, as the SDK promises. */
	if (p->data != data)
		plugin_data_free(p);
	p->data = data;
	p->free_fn = free_fn;
}

CP_EXPORT void *cp_plugin_get_data(const struct cp_plugin *p)
{
	return p ? p->data : NULL;
}

CP_EXPORT int cp_register_image(struct cp_plugin *p, const char *name, uint32_t magic)
{
	struct plugin_image *images;
	const char *pct;
	int ret;

	ret = plugin_check_registering(p, "cp_register_image()");
	if (ret)
		return ret;
	if (!name || !*name || strchr(name, '/')) {
		plugin_pr_err(p, "bad image name '%s'", name ? name : "(null)");
		return -EINVAL;
	}
	/* At most one "%u" or "%x", so the core can format it with one number. */
	pct = strchr(name, '%');
	if (pct && ((pct[1] != 'u' && pct[1] != 'x') || strchr(pct + 2, '%'))) {
		plugin_pr_err(p, "image name '%s' may hold one %%u or %%x and no other %%", name);
		return -EINVAL;
	}
	for (size_t i = 0; i < reg.nplugins; i++) {
		const struct cp_plugin *q = reg.plugins[i];

		for (size_t j = 0; j < q->nimages; j++) {
			if (strcmp(q->images[j].name, name))
				continue;
			plugin_pr_err(p, "image %s is already registered by plugin %s", name, q->name);
			return -EEXIST;
		}
	}

	images = realloc(p->images, (p->nimages + 1) * sizeof(*images));
	if (!images)
		return -ENOMEM;
	p->images = images;
	images[p->nimages].name = strdup(name);
	if (!images[p->nimages].name)
		return -ENOMEM;
	images[p->nimages].magic = magic;
	p->nimages++;
	return 0;
}

CP_EXPORT int cp_register_hook(struct cp_plugin *p, enum cp_stage stage, cp_hook_fn fn)
{
	struct plugin_hook *hooks;
	int ret;

	ret = plugin_check_registering(p, "cp_register_hook()");
	if (ret)
		return ret;
	if ((unsigned int)stage >= CP_STAGE__MAX || !fn) {
		plugin_pr_err(p, "bad hook (stage %d, function %p)", (int)stage, (void *)(uintptr_t)fn);
		return -EINVAL;
	}
	hooks = realloc(reg.hooks[stage], (reg.nhooks[stage] + 1) * sizeof(*hooks));
	if (!hooks)
		return -ENOMEM;
	reg.hooks[stage] = hooks;
	hooks[reg.nhooks[stage]].owner = p;
	hooks[reg.nhooks[stage]].fn = fn;
	reg.nhooks[stage]++;
	return 0;
}

bool plugin_hook_at(enum cp_stage stage, size_t i, struct cp_plugin **owner, cp_hook_fn *fn)
{
	if ((unsigned int)stage >= CP_STAGE__MAX || i >= reg.nhooks[stage])
		return false;
	if (owner)
		*owner = reg.hooks[stage][i].owner;
	if (fn)
		*fn = reg.hooks[stage][i].fn;
	return true;
}

/*
 * The stages that undo or report: every hook must get its chance (a
 * network left locked because another plugin failed first is exactly what
 * a failed dump must not leave behind), so a failure does not stop them.
 */
static bool stage_runs_all(enum cp_stage stage)
{
	return stage == CP_STAGE_NETWORK_UNLOCK || stage == CP_STAGE_POST_DUMP || stage == CP_STAGE_POST_RESUME;
}

int plugins_run_hooks(struct cp_hook_ctx *ctx)
{
	enum cp_stage stage = ctx->stage;
	int first = 0;

	if ((unsigned int)stage >= CP_STAGE__MAX) {
		pr_err("no such hook stage %d", (int)stage);
		return -EINVAL;
	}
	ctx->size = sizeof(*ctx);

	for (size_t i = 0; i < reg.nhooks[stage]; i++) {
		struct cp_plugin *p = reg.hooks[stage][i].owner;
		const char *old;
		int ret;

		old = plugin_enter(p);
		ret = reg.hooks[stage][i].fn(p, ctx);
		plugin_leave(old);

		if (!ret || ret == -ENOTSUP)
			continue;
		if (ret > 0) {
			if (!stage_runs_all(stage))
				return CP_RETRY;
			pr_err("plugin %s asked to be called again at stage %s, which is not retried", p->name,
			       plugins_stage_name(stage));
			ret = -EINVAL;
		} else if (ctx->pid) {
			pr_err("plugin %s failed at stage %s for pid %d: %s", p->name, plugins_stage_name(stage),
			       (int)ctx->pid, strerror(-ret));
		} else {
			pr_err("plugin %s failed at stage %s: %s", p->name, plugins_stage_name(stage), strerror(-ret));
		}
		if (!stage_runs_all(stage))
			return ret;
		if (!first)
			first = ret;
	}
	return first;
}
