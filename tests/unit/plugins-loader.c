// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The plugin loader with real .so files: the test plugins built from
 * plugins-testplug.c (TP_LIBS_DIR) and the project's plugins
 * (TP_PLUGIN_BUILD_DIR). Each test makes a plugin dir of symlinks under
 * /tmp holding just the files it needs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions.h"
#include "options/options.h"
#include "plugins/loader.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"
#include "plugins-tap.h"

#ifndef TP_LIBS_DIR
#error "TP_LIBS_DIR must name the dir of the built test plugins"
#endif
#ifndef TP_PLUGIN_BUILD_DIR
#error "TP_PLUGIN_BUILD_DIR must name the build tree's plugin dir"
#endif

/* Temporary plugin dirs made by the running test, removed by cleanup(). */
static char dirs[4][PATH_MAX];
static int ndirs;

/*
 * A new dir holding links to test plugins. Each argument is "FILE" (link
 * FILE.so to the built FILE.so) or "FILE=TARGET" (link FILE.so to TARGET.so).
 */
static const char *make_dir(const char *first, ...)
{
	char *dir = dirs[ndirs];
	const char *arg;
	va_list ap;

	snprintf(dir, PATH_MAX, "/tmp/criu-plugins-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(99);
	}
	ndirs++;
	va_start(ap, first);
	for (arg = first; arg; arg = va_arg(ap, const char *)) {
		char link[PATH_MAX], target[PATH_MAX], name[128];
		const char *eq = strchr(arg, '=');

		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		snprintf(link, sizeof(link), "%s/%s.so", dir, name);
		snprintf(target, sizeof(target), "%s/%s.so", TP_LIBS_DIR, eq ? eq + 1 : arg);
		if (symlink(target, link)) {
			perror("symlink");
			exit(99);
		}
	}
	va_end(ap);
	return dir;
}

static void cleanup(void)
{
	for (int i = 0; i < ndirs; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char path[PATH_MAX * 2];

			if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name) < (int)sizeof(path))
				unlink(path);
		}
		if (d)
			closedir(d);
		rmdir(dirs[i]);
	}
	ndirs = 0;
}

static struct options *opts_with(const char *libdir, const char *enable, const char *disable)
{
	struct options *o = opts_new();

	if (!o)
		exit(99);
	opts_set_action(o, ACT_PLUGINS);
	if (libdir)
		CHECK_EQ(opt_set_text(o, opt_find("libdir")->id, libdir, NULL), 0);
	if (enable)
		CHECK_EQ(opt_set_text(o, opt_find("enable")->id, enable, NULL), 0);
	if (disable)
		CHECK_EQ(opt_set_text(o, opt_find("disable")->id, disable, NULL), 0);
	return o;
}

static const struct plugin_file *file_named(const char *file)
{
	for (size_t i = 0; i < plugin_report_count(); i++) {
		const struct plugin_file *f = plugin_report_at(i);
		const char *slash = strrchr(f->path, '/');

		if (!strcmp(slash ? slash + 1 : f->path, file))
			return f;
	}
	return NULL;
}

/* FILE was tried and ended in STATE, with WHY (if given) in its reason. */
static bool file_is(const char *file, enum plugin_file_state state, const char *why)
{
	const struct plugin_file *f = file_named(file);

	if (!f || f->state != state || (why && (!f->reason || !strstr(f->reason, why)))) {
		printf("#   %s: state %d reason \"%s\", expected state %d with \"%s\"\n", file, f ? (int)f->state : -1,
		       f && f->reason ? f->reason : "", (int)state, why ? why : "");
		return false;
	}
	return true;
}

static void run_dump_init(void)
{
	struct cp_hook_ctx ctx = { .stage = CP_STAGE_DUMP_INIT };

	CHECK_EQ(plugins_run_hooks(&ctx), 0);
}

static void t_good_plugin(void)
{
	struct options *o = opts_with(make_dir("tp-good", NULL), NULL, NULL);
	struct cp_plugin *p;

	CHECK_EQ(plugins_load(o), 0);
	CHECK_EQ(plugins_count(), 1);
	CHECK(plugins_is_loaded("tp-good"));
	CHECK(file_is("tp-good.so", PLUGIN_FILE_LOADED, NULL));
	CHECK(!strcmp(plugin_report_dirs_source(), "the libdir option"));
	CHECK_LOG("tp-good: init done");
	p = plugin_find("tp-good");
	CHECK(p && p->nkeys == 4 && p->nimages == 1);
	CHECK_EQ(plugin_fd_kind_count(), 1);
	run_dump_init();
	CHECK_LOG("tp-good: hook stage 0: flag=0 count=7 mode=(unset) items=0 last=(none) data=tp-data");
	plugins_unload();
	CHECK_LOG("tp-good: fini called");
	CHECK_EQ(plugins_count(), 0);
	opts_free(o);
	cleanup();
}

static void t_rejects(void)
{
	const char *dir =
		make_dir("tp-good", "tp-major", "tp-minor", "tp-nodesc", "tp-noinit", "tp-renamed=tp-good", NULL);
	struct options *o = opts_with(dir, NULL, NULL);
	char msg[PATH_MAX + 128];

	/* Not plugin files: ignored. */
	close(open(strcat(strcpy(msg, dir), "/README"), O_CREAT | O_WRONLY, 0600));
	close(open(strcat(strcpy(msg, dir), "/.hidden.so"), O_CREAT | O_WRONLY, 0600));

	/* All or nothing. */
	CHECK_EQ(plugins_load(o), -ENOEXEC);
	CHECK_EQ(plugins_count(), 0);
	plugins_unload();

	/* Kept for listing: the good one is in. */
	CHECK_EQ(plugin_load_report(o), -ENOEXEC);
	CHECK_EQ(plugins_count(), 1);
	CHECK(file_is("tp-good.so", PLUGIN_FILE_LOADED, NULL));
	/* tp-major is built for the next major, tp-minor for the next minor. */
	snprintf(msg, sizeof(msg), "built for plugin ABI %d.%d, but this criu's is %d.%d (the major must be the same)",
		 CP_ABI_MAJOR + 1, CP_ABI_MINOR, CP_ABI_MAJOR, CP_ABI_MINOR);
	CHECK(file_is("tp-major.so", PLUGIN_FILE_REJECTED, msg));
	snprintf(msg, sizeof(msg), "built for plugin ABI %d.%d, newer than this criu's %d.%d", CP_ABI_MAJOR,
		 CP_ABI_MINOR + 1, CP_ABI_MAJOR, CP_ABI_MINOR);
	CHECK(file_is("tp-minor.so", PLUGIN_FILE_REJECTED, msg));
	CHECK(file_is("tp-nodesc.so", PLUGIN_FILE_REJECTED, "no criu_plugin_descriptor symbol: not a criu plugin"));
	CHECK(file_is("tp-noinit.so", PLUGIN_FILE_REJECTED, "its descriptor has no init()"));
	CHECK(file_is("tp-renamed.so", PLUGIN_FILE_REJECTED,
		      "it calls itself 'tp-good'; its file must be named tp-good.so"));
	CHECK(file_named("README") == NULL && file_named(".hidden.so") == NULL);
	CHECK_EQ(plugin_report_count(), 6);
	/* Each error names the file. */
	snprintf(msg, sizeof(msg), "%s/tp-major.so: built for plugin ABI %d.", dir, CP_ABI_MAJOR + 1);
	CHECK_LOG(msg);
	snprintf(msg, sizeof(msg), "%s/tp-nodesc.so: no criu_plugin_descriptor", dir);
	CHECK_LOG(msg);
	/* The first error carries the file in its summary. */
	CHECK(err_first_summary() && strstr(err_first_summary(), "tp-major.so"));
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_init_failure(void)
{
	struct options *o = opts_with(make_dir("tp-good", "tp-initfail", NULL), NULL, NULL);

	CHECK_EQ(plugin_load_report(o), -EIO);
	CHECK(file_is("tp-initfail.so", PLUGIN_FILE_REJECTED, "its init() failed: Input/output error"));
	CHECK_LOG("tp-initfail: init fails on purpose");
	CHECK_EQ(plugins_count(), 1);
	/* Its hook, key, image and fd kind went with it (its code is unmapped). */
	CHECK_EQ(plugin_fd_kind_count(), 1);
	run_dump_init();
	CHECK(!strstr(tap_log_text(), "tp-initfail: hook"));
	CHECK(!strstr(tap_log_text(), "tp-initfail: fini"));
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_duplicate_name(void)
{
	char libdir[2 * PATH_MAX + 2], msg[3 * PATH_MAX];
	const char *a = make_dir("tp-good", NULL);
	const char *b = make_dir("tp-good", NULL);
	struct options *o;

	snprintf(libdir, sizeof(libdir), "%s:%s", a, b);
	o = opts_with(libdir, NULL, NULL);
	CHECK_EQ(plugins_load(o), 0);
	CHECK_EQ(plugins_count(), 1);
	CHECK_EQ(plugin_report_count(), 2);
	CHECK(plugin_report_at(0)->state == PLUGIN_FILE_LOADED);
	CHECK(plugin_report_at(1)->state == PLUGIN_FILE_SKIPPED);
	snprintf(msg, sizeof(msg), "%s/tp-good.so: skipped: plugin tp-good is already loaded from %s/tp-good.so", b, a);
	CHECK_LOG(msg);
	CHECK_LOG("Warn  (");
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_enable_list(void)
{
	struct options *o = opts_with(make_dir("tp-good", "tp-major", "tp-nodesc", NULL), "tp-good", NULL);

	/* The others are not even opened, so their problems do not matter. */
	CHECK_EQ(plugins_load(o), 0);
	CHECK_EQ(plugins_count(), 1);
	CHECK(file_is("tp-major.so", PLUGIN_FILE_SKIPPED, "not in [plugins] enable"));
	CHECK(file_is("tp-nodesc.so", PLUGIN_FILE_SKIPPED, "not in [plugins] enable"));
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_enable_missing(void)
{
	const char *dir = make_dir("tp-good", NULL);
	struct options *o = opts_with(dir, "tp-good, tp-missing", NULL);
	char msg[PATH_MAX + 128];

	CHECK_EQ(plugins_load(o), -ENOENT);
	CHECK(!plugins_is_loaded("tp-good"));
	snprintf(msg, sizeof(msg), "plugin tp-missing named in [plugins] enable is not in %s", dir);
	CHECK_LOG(msg);
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_disable_list(void)
{
	struct options *o = opts_with(make_dir("tp-good", "tp-major", NULL), NULL, "tp-major");

	CHECK_EQ(plugins_load(o), 0);
	CHECK(file_is("tp-major.so", PLUGIN_FILE_SKIPPED, "disabled by [plugins] disable"));
	CHECK_EQ(plugins_count(), 1);
	plugins_unload();
	opts_free(o);

	/* Named in both: disable wins, and that is not a missing plugin. */
	o = opts_with(dirs[0], "tp-good,tp-major", "tp-major");
	CHECK_EQ(plugins_load(o), 0);
	CHECK(file_is("tp-major.so", PLUGIN_FILE_SKIPPED, "disabled"));
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_config_file_keys(void)
{
	const char *dir = make_dir("tp-good", NULL);
	struct options *o = opts_with(dir, NULL, NULL);
	char conf[PATH_MAX], msg[PATH_MAX + 128];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/test.conf", dir);
	f = fopen(conf, "w");
	CHECK(f != NULL);
	fprintf(f, "[plugins]\n"
		   "enable = tp-good\n"
		   "[plugin.tp-good]\n"
		   "count = 12\n"
		   "item = x\n"
		   "item = y\n"
		   "bogus = 1\n"
		   "flag = perhaps\n"
		   "[plugin.tp-absent]\n"
		   "k = v\n");
	fclose(f);
	CHECK_EQ(opts_load_file(o, conf), 0);

	CHECK_EQ(plugin_load_report(o), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:7: unknown key 'bogus' in [plugin.tp-good]", conf);
	CHECK_LOG(msg);
	snprintf(msg, sizeof(msg), "%s:8: bad value 'perhaps' for key 'flag' in [plugin.tp-good]", conf);
	CHECK_LOG(msg);
	snprintf(msg, sizeof(msg), "%s:10: section [plugin.tp-absent] is for a plugin that is not loaded", conf);
	CHECK_LOG(msg);
	/* The plugin is loaded and reads its own keys. */
	run_dump_init();
	CHECK_LOG("count=12 mode=(unset) items=2 last=y");
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_dir_precedence(void)
{
	const char *a = make_dir("tp-good", NULL);
	const char *b = make_dir("tp-major", NULL);
	struct options *o;

	/* $CRIU_LIBS_DIR when the options say nothing. */
	setenv("CRIU_LIBS_DIR", a, 1);
	o = opts_with(NULL, NULL, NULL);
	CHECK_EQ(plugins_load(o), 0);
	CHECK(!strcmp(plugin_report_dirs(), a));
	CHECK(!strcmp(plugin_report_dirs_source(), "$CRIU_LIBS_DIR"));
	plugins_unload();
	opts_free(o);

	/* No options at all. */
	CHECK_EQ(plugins_load(NULL), 0);
	CHECK(plugins_is_loaded("tp-good"));
	plugins_unload();

	/* The option beats the environment. */
	o = opts_with(b, NULL, NULL);
	CHECK_EQ(plugins_load(o), -ENOEXEC);
	CHECK(!strcmp(plugin_report_dirs(), b));
	plugins_unload();
	opts_free(o);

	/* Else the configured dir; enable names a plugin, so nothing there is opened. */
	unsetenv("CRIU_LIBS_DIR");
	o = opts_with(NULL, "tp-not-there", NULL);
	CHECK_EQ(plugins_load(o), -ENOENT);
	CHECK(!strcmp(plugin_report_dirs(), PLUGINDIR));
	CHECK(!strcmp(plugin_report_dirs_source(), "the built-in default"));
	plugins_unload();
	opts_free(o);

	/* A dir the user named must exist. */
	o = opts_with("/nonexistent/criu-plugins", NULL, NULL);
	CHECK_EQ(plugins_load(o), -ENOENT);
	CHECK_LOG("Can't read plugin dir /nonexistent/criu-plugins");
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_load_twice(void)
{
	struct options *o = opts_with(make_dir("tp-good", NULL), NULL, NULL);

	CHECK_EQ(plugins_load(o), 0);
	CHECK_EQ(plugins_load(o), -EBUSY);
	CHECK_EQ(plugins_count(), 1);
	plugins_unload();
	opts_free(o);
	cleanup();
}

static void t_project_plugins(void)
{
	struct options *o = opts_with(TP_PLUGIN_BUILD_DIR, NULL, NULL);
	struct dirent **ents;
	int n;

	n = scandir(TP_PLUGIN_BUILD_DIR, &ents, NULL, alphasort);
	CHECK(n >= 0);
	CHECK_EQ(plugins_load(o), 0);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);

		if (len > 3 && !strcmp(ents[i]->d_name + len - 3, ".so")) {
			ents[i]->d_name[len - 3] = '\0';
			if (!plugins_is_loaded(ents[i]->d_name)) {
				printf("#   plugin %s not loaded\n", ents[i]->d_name);
				tap_failed = 1;
			}
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	/* Whatever fd kinds they register now, each is whole and named by its owner. */
	for (size_t i = 0; i < plugin_fd_kind_count(); i++) {
		const struct plugin_fd_kind *k = plugin_fd_kind_at(i);

		CHECK(k->ops.name && k->ops.type && k->ops.match && k->ops.dump && k->ops.open);
		CHECK(plugins_is_loaded(k->owner->name));
	}
	if (plugins_is_loaded("files")) {
		bool b = false;

		CHECK_EQ(cp_plugin_opt_bool(plugin_find("files"), "pipe-data", &b), 0);
		CHECK(b);
	}
	printf("#   %zu project plugins loaded\n", plugins_count());
	plugins_unload();
	opts_free(o);
}

static void t_action_plugins(void)
{
	struct options *o = opts_with(make_dir("tp-good", "tp-major", NULL), NULL, "tp-nodesc");
	struct action_result res = { 0 };
	char out[PATH_MAX], want[128];
	static char text[16384];
	int fd, saved;
	ssize_t n;

	fd = -1;
	if (snprintf(out, sizeof(out), "%s/out.txt", dirs[0]) < (int)sizeof(out))
		fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	CHECK_EQ(action_plugins(o, &res), -ENOEXEC);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(out);

	CHECK(strstr(text, "Plugin dir: /tmp/criu-plugins-test."));
	snprintf(want, sizeof(want), "tp-good 1.2.3 (plugin ABI %d.%d)", CP_ABI_MAJOR, CP_ABI_MINOR);
	CHECK(strstr(text, want));
	CHECK(strstr(text, "description: a test plugin"));
	CHECK(strstr(text, "fd kinds:    test-kind (type 100)"));
	CHECK(strstr(text, "hooks:       dump-init"));
	CHECK(strstr(text, "images:      tp-good-%x.img (magic 0x12345678)"));
	CHECK(strstr(text, "count (integer, default 7): an integer"));
	CHECK(strstr(text, "\nRejected:\n"));
	snprintf(want, sizeof(want), "tp-major.so: built for plugin ABI %d.", CP_ABI_MAJOR + 1);
	CHECK(strstr(text, want));
	if (tap_failed)
		printf("# output:\n%s", text);
	/* The action unloads what it loaded. */
	CHECK_EQ(plugins_count(), 0);
	opts_free(o);
	cleanup();
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_good_plugin),    TAP_TEST(t_rejects),	  TAP_TEST(t_init_failure),
		TAP_TEST(t_duplicate_name), TAP_TEST(t_enable_list),	  TAP_TEST(t_enable_missing),
		TAP_TEST(t_disable_list),   TAP_TEST(t_config_file_keys), TAP_TEST(t_dir_precedence),
		TAP_TEST(t_load_twice),	    TAP_TEST(t_project_plugins),  TAP_TEST(t_action_plugins),
	};

	/* The environment of the caller must not pick the plugin dir. */
	unsetenv("CRIU_LIBS_DIR");
	return tap_run(tests, TAP_COUNT(tests), &plugins_tap_opts);
}
