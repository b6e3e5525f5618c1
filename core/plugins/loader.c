// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The plugin loader: find the plugin files, pick the ones [plugins]
 * enables, check each descriptor, call init(), then check the config keys
 * of [plugin.NAME] against what the plugins declared.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "plugins/config.h"
#include "plugins/loader.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"

#ifndef PLUGINDIR
#error "PLUGINDIR must name the configured plugin dir"
#endif

struct strv {
	char **v;
	size_t n;
};

static struct {
	char *dirs;
	const char *source;
	struct plugin_file *files;
	size_t nfiles;
} rep;

/*
 * The criu executable links the core as a static archive, and the linker
 * leaves out every object that nothing in criu refers to; a plugin calling
 * an SDK function from such an object would then fail to load. Refer to
 * every SDK function here, whichever area of the core defines it, so a
 * program that can load plugins carries the whole SDK
 * (tests/unit/plugins-symbols.sh checks that criu exports them all).
 */
static void (*const sdk_functions[])(void) __attribute__((used)) = {
	(void (*)(void))cp_plugin_name,
	(void (*)(void))cp_plugin_set_data,
	(void (*)(void))cp_plugin_get_data,
	(void (*)(void))cp_register_option,
	(void (*)(void))cp_plugin_opt_bool,
	(void (*)(void))cp_plugin_opt_int,
	(void (*)(void))cp_plugin_opt_string,
	(void (*)(void))cp_plugin_opt_list,
	(void (*)(void))cp_opt_bool,
	(void (*)(void))cp_opt_int,
	(void (*)(void))cp_opt_string,
	(void (*)(void))cp_opt_list,
	(void (*)(void))cp_register_image,
	(void (*)(void))cp_image_open_write,
	(void (*)(void))cp_image_open_read,
	(void (*)(void))cp_image_write_msg,
	(void (*)(void))cp_image_write_raw,
	(void (*)(void))cp_image_read_msg,
	(void (*)(void))cp_image_read_raw,
	(void (*)(void))cp_image_fd,
	(void (*)(void))cp_image_close,
	(void (*)(void))cp_images_dir_fd,
	(void (*)(void))cp_rpc_service_sk_ino,
	(void (*)(void))cp_rpc_send_dump_restored,
	(void (*)(void))cp_payload_pack,
	(void (*)(void))cp_register_fd_kind,
	(void (*)(void))cp_register_hook,
	(void (*)(void))cp_task_read_mem,
	(void (*)(void))cp_task_dup_fd,
	(void (*)(void))cp_file_dump_as,
	(void (*)(void))cp_file_open_id,
	(void (*)(void))cp_shmem_dump,
	(void (*)(void))cp_shmem_restore,
	(void (*)(void))cp_log,
	(void (*)(void))cp_vlog,
	(void (*)(void))cp_log_errno,
	(void (*)(void))cp_log_get_level,
};

const char *plugin_report_dirs(void)
{
	return rep.dirs;
}

const char *plugin_report_dirs_source(void)
{
	return rep.source;
}

size_t plugin_report_count(void)
{
	return rep.nfiles;
}

const struct plugin_file *plugin_report_at(size_t i)
{
	return i < rep.nfiles ? &rep.files[i] : NULL;
}

static void report_free(void)
{
	for (size_t i = 0; i < rep.nfiles; i++) {
		free(rep.files[i].path);
		free(rep.files[i].name);
		free(rep.files[i].reason);
	}
	free(rep.files);
	free(rep.dirs);
	memset(&rep, 0, sizeof(rep));
}

static int report_add(const char *path, const char *name, enum plugin_file_state state, const char *reason)
{
	struct plugin_file *files, *f;

	files = realloc(rep.files, (rep.nfiles + 1) * sizeof(*files));
	if (!files)
		return -ENOMEM;
	rep.files = files;
	f = &files[rep.nfiles];
	f->state = state;
	f->path = strdup(path);
	f->name = strdup(name);
	f->reason = reason ? strdup(reason) : NULL;
	if (!f->path || !f->name || (reason && !f->reason)) {
		free(f->path);
		free(f->name);
		free(f->reason);
		return -ENOMEM;
	}
	rep.nfiles++;
	return 0;
}

/* The file that loaded plugin NAME, or NULL. */
static const struct plugin_file *report_loaded(const char *name)
{
	for (size_t i = 0; i < rep.nfiles; i++)
		if (rep.files[i].state == PLUGIN_FILE_LOADED && !strcmp(rep.files[i].name, name))
			return &rep.files[i];
	return NULL;
}

static bool report_has_name(const char *name)
{
	for (size_t i = 0; i < rep.nfiles; i++)
		if (!strcmp(rep.files[i].name, name))
			return true;
	return false;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool strv_has(const struct strv *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

static int strv_add(struct strv *s, const char *str, size_t len)
{
	char **v;

	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	v[s->n] = strndup(str, len);
	if (!v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

/* [plugins] enable or disable as names; a value may list several ("a, b"). */
static int names_get(struct options *o, enum plugin_cfg_list which, struct strv *out)
{
	static const char sep[] = ", \t";
	const char *val;
	int n, ret = 0;

	n = o ? plugin_cfg_list(o, which, 0, NULL) : 0;
	if (n < 0)
		return n;
	for (int i = 0; i < n && !ret; i++) {
		ret = plugin_cfg_list(o, which, i, &val);
		for (const char *c = val; !ret && *c;) {
			size_t len;

			c += strspn(c, sep);
			len = strcspn(c, sep);
			if (len && strv_add(out, c, len))
				ret = -ENOMEM;
			c += len;
		}
	}
	if (ret)
		strv_free(out);
	return ret;
}

/*
 * Check the descriptor D found in the file of plugin NAME. Returns 0, or
 * writes why not into WHY and returns a negative errno.
 */
static int desc_check(const struct cp_plugin_desc *d, const char *name, char *why, size_t size)
{
	/* The major says how the rest of the struct is laid out: check it first. */
	if (d->abi_major != CP_ABI_MAJOR) {
		snprintf(why, size, "built for plugin ABI %u.%u, but this criu's is %d.%d (the major must be the same)",
			 d->abi_major, d->abi_minor, CP_ABI_MAJOR, CP_ABI_MINOR);
		return -ENOEXEC;
	}
	if (d->abi_minor > CP_ABI_MINOR) {
		snprintf(why, size,
			 "built for plugin ABI %u.%u, newer than this criu's %d.%d (the minor must not be newer)",
			 d->abi_major, d->abi_minor, CP_ABI_MAJOR, CP_ABI_MINOR);
		return -ENOEXEC;
	}
	if (!d->name || !d->init) {
		snprintf(why, size, "its descriptor has no %s", !d->name ? "name" : "init()");
		return -ENOEXEC;
	}
	if (strcmp(d->name, name)) {
		snprintf(why, size, "it calls itself '%s'; its file must be named %s.so", d->name, d->name);
		return -EINVAL;
	}
	return 0;
}

/* Load one file. 0, or a negative errno with the reason in WHY. */
static int load_file(const char *path, const char *name, char *why, size_t size)
{
	const struct cp_plugin_desc *desc;
	struct cp_plugin *p;
	void *handle;
	int ret;

	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *err = dlerror();

		snprintf(why, size, "can't load it: %s", err ? err : "unknown dlopen() error");
		return -ENOEXEC;
	}
	desc = dlsym(handle, CP_PLUGIN_DESC_SYMBOL);
	if (!desc) {
		snprintf(why, size, "no %s symbol: not a criu plugin (see CP_PLUGIN_DEFINE)", CP_PLUGIN_DESC_SYMBOL);
		ret = -ENOEXEC;
		goto err_close;
	}
	ret = desc_check(desc, name, why, size);
	if (ret)
		goto err_close;

	p = plugin_new(desc, path, handle);
	if (!p) {
		snprintf(why, size, "out of memory");
		ret = -ENOMEM;
		goto err_close;
	}
	/* From here P owns HANDLE; a failed init() frees both. */
	ret = plugin_start(p);
	if (ret)
		snprintf(why, size, "its init() failed: %s", strerror(-ret));
	return ret;

err_close:
	dlclose(handle);
	return ret;
}

/* Plugin files are "NAME.so"; anything else in the dir is not ours. */
static int so_filter(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 3 && !strcmp(de->d_name + len - 3, ".so");
}

/* Load order is name order: the same on every run, whatever readdir says. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int handle_file(const char *dir, const char *file, const struct strv *enable, const struct strv *disable)
{
	const struct plugin_file *first;
	char path[4096], name[256], why[768];
	enum plugin_file_state state;
	size_t len = strlen(file) - 3;
	int ret = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path) || len >= sizeof(name)) {
		pr_err("plugin file name too long: %s/%s", dir, file);
		return -ENAMETOOLONG;
	}
	memcpy(name, file, len);
	name[len] = '\0';

	first = report_loaded(name);
	if (strv_has(disable, name)) {
		state = PLUGIN_FILE_SKIPPED;
		snprintf(why, sizeof(why), "disabled by [plugins] disable");
		pr_info("%s: %s", path, why);
	} else if (enable->n && !strv_has(enable, name)) {
		state = PLUGIN_FILE_SKIPPED;
		snprintf(why, sizeof(why), "not in [plugins] enable");
		pr_info("%s: %s", path, why);
	} else if (first) {
		state = PLUGIN_FILE_SKIPPED;
		snprintf(why, sizeof(why), "plugin %s is already loaded from %s", name, first->path);
		pr_warn("%s: skipped: %s", path, why);
	} else {
		err_ctx_set_fd(-1, path);
		ret = load_file(path, name, why, sizeof(why));
		if (ret) {
			err_ctx_set_remedy("remove the file, or name the plugin in [plugins] disable");
			pr_err("%s: %s", path, why);
			err_ctx_set_remedy(NULL);
		}
		err_ctx_set_fd(-1, NULL);
		state = ret ? PLUGIN_FILE_REJECTED : PLUGIN_FILE_LOADED;
	}
	if (report_add(path, name, state, state == PLUGIN_FILE_LOADED ? NULL : why) && !ret)
		ret = -ENOMEM;
	return ret;
}

/* Load the plugins of DIR. EXPLICIT: the user named it, so it must exist. */
static int load_dir(const char *dir, bool explicit, const struct strv *enable, const struct strv *disable)
{
	struct dirent **ents;
	int n, ret = 0;

	n = scandir(dir, &ents, so_filter, name_cmp);
	if (n < 0) {
		if (errno == ENOENT && !explicit) {
			pr_info("no plugin dir %s", dir);
			return 0;
		}
		ret = -errno;
		pr_perror("Can't read plugin dir %s", dir);
		return ret;
	}
	for (int i = 0; i < n; i++) {
		int r = handle_file(dir, ents[i]->d_name, enable, disable);

		if (r && !ret)
			ret = r;
		free(ents[i]);
	}
	free(ents);
	return ret;
}

/*
 * Where to look: -L/--libdir or INI libdir (the options table ranks the
 * two), else $CRIU_LIBS_DIR, else the configured dir. The setting may hold
 * several dirs separated by ':', searched in order; the first file of a
 * name wins.
 */
static const char *dirs_get(struct options *o, const char **source, bool *explicit)
{
	const char *dirs = o ? plugin_cfg_libdir(o) : NULL;

	*explicit = true;
	if (dirs && *dirs) {
		*source = "the libdir option";
		return dirs;
	}
	dirs = getenv("CRIU_LIBS_DIR");
	if (dirs && *dirs) {
		*source = "$CRIU_LIBS_DIR";
		return dirs;
	}
	*explicit = false;
	*source = "the built-in default";
	return PLUGINDIR;
}

static int load_dirs(const char *dirs, bool explicit, const struct strv *enable, const struct strv *disable)
{
	int ret = 0;

	for (const char *d = dirs; *d;) {
		size_t len = strcspn(d, ":");

		if (len) {
			char *dir = strndup(d, len);
			int r;

			if (!dir)
				return -ENOMEM;
			r = load_dir(dir, explicit, enable, disable);
			free(dir);
			if (r && !ret)
				ret = r;
		}
		d += len;
		if (*d == ':')
			d++;
	}
	return ret;
}

int plugin_load_report(struct options *o)
{
	struct strv enable = { 0 }, disable = { 0 };
	const char *dirs, *source;
	bool explicit;
	int ret;

	if (plugins_count()) {
		pr_err("plugins are already loaded; unload them first");
		return -EBUSY;
	}
	report_free();
	plugin_set_options(o);

	ret = names_get(o, PLUGIN_CFG_ENABLE, &enable);
	if (!ret)
		ret = names_get(o, PLUGIN_CFG_DISABLE, &disable);
	if (ret) {
		pr_err("can't read [plugins] enable/disable: %s", strerror(-ret));
		goto out;
	}

	dirs = dirs_get(o, &source, &explicit);
	rep.dirs = strdup(dirs);
	rep.source = source;
	if (!rep.dirs) {
		ret = -ENOMEM;
		goto out;
	}
	pr_debug("loading plugins from %s (%s)", dirs, source);
	ret = load_dirs(dirs, explicit, &enable, &disable);

	for (size_t i = 0; i < enable.n; i++) {
		if (report_has_name(enable.v[i]) || strv_has(&disable, enable.v[i]))
			continue;
		pr_err("plugin %s named in [plugins] enable is not in %s (%s)", enable.v[i], dirs, source);
		if (!ret)
			ret = -ENOENT;
	}

	if (o) {
		int r = plugin_keys_check(o);

		if (r && !ret)
			ret = r;
	}
out:
	strv_free(&enable);
	strv_free(&disable);
	return ret;
}

int plugins_load(struct options *o)
{
	int ret;

	/* Refused before anything is loaded, so what is loaded stays. */
	if (plugins_count()) {
		pr_err("plugins are already loaded; unload them first");
		return -EBUSY;
	}
	ret = plugin_load_report(o);
	/* All or nothing: a dump must not run with a plugin set the user did not ask for. */
	if (ret)
		plugin_stop_all();
	return ret;
}

void plugins_unload(void)
{
	plugin_stop_all();
	report_free();
	plugin_set_options(NULL);
}
