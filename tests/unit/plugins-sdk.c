// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The SDK services that do not need a loaded .so: a plugin's own keys
 * (declaring, reading, checking [plugin.NAME] with FILE:LINE), core
 * options by long name, the plugin hint for an unhandled fd, and reading
 * a task's memory and fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "options/options.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"
#include "plugins-tap.h"

static struct opt_origin conf_line(int line)
{
	return (struct opt_origin){ .kind = OPT_ORIGIN_FILE, .file = "test.conf", .line = line };
}

static int decl_res[8];

static int pk_init(struct cp_plugin *p)
{
	decl_res[0] = cp_register_option(p, "flag", CP_OPT_BOOL, "yes", "a boolean");
	decl_res[1] = cp_register_option(p, "count", CP_OPT_INT, "0x10", "an integer");
	decl_res[2] = cp_register_option(p, "mode", CP_OPT_STRING, "fast", NULL);
	decl_res[3] = cp_register_option(p, "item", CP_OPT_LIST, "first", NULL);
	decl_res[4] = cp_register_option(p, "flag", CP_OPT_INT, NULL, NULL);
	decl_res[5] = cp_register_option(p, "bad", CP_OPT_INT, "ten", NULL);
	decl_res[6] = cp_register_option(p, "Bad Name", CP_OPT_BOOL, NULL, NULL);
	decl_res[7] = cp_register_option(p, "typeless", (enum cp_opt_type)9, NULL, NULL);
	return 0;
}

static const struct cp_plugin_desc desc_k = {
	.abi_major = CP_ABI_MAJOR,
	.abi_minor = CP_ABI_MINOR,
	.name = "pk",
	.init = pk_init,
};

static struct cp_plugin *start_pk(struct options *o)
{
	struct cp_plugin *p = plugin_new(&desc_k, NULL, NULL);

	plugin_set_options(o);
	CHECK(p != NULL);
	CHECK_EQ(plugin_start(p), 0);
	return plugin_find("pk");
}

static void t_keys_declare(void)
{
	struct cp_plugin *p = start_pk(NULL);

	CHECK_EQ(decl_res[0], 0);
	CHECK_EQ(decl_res[1], 0);
	CHECK_EQ(decl_res[2], 0);
	CHECK_EQ(decl_res[3], 0);
	CHECK_EQ(decl_res[4], -EEXIST);
	CHECK_EQ(decl_res[5], -EINVAL);
	CHECK_EQ(decl_res[6], -EINVAL);
	CHECK_EQ(decl_res[7], -EINVAL);
	CHECK_LOG("pk: default 'ten' of key 'bad' is not a valid integer");
	CHECK(p && p->nkeys == 4);
	plugins_unload();
}

static void t_keys_defaults(void)
{
	struct cp_plugin *p = start_pk(NULL);
	const char *s = NULL;
	long long n = 0;
	bool b = false;

	CHECK_EQ(cp_plugin_opt_bool(p, "flag", &b), 0);
	CHECK(b);
	CHECK_EQ(cp_plugin_opt_int(p, "count", &n), 0);
	CHECK_EQ(n, 16);
	CHECK_EQ(cp_plugin_opt_string(p, "mode", &s), 0);
	CHECK(s && !strcmp(s, "fast"));
	CHECK_EQ(cp_plugin_opt_list(p, "item", 0, NULL), 1);
	CHECK_EQ(cp_plugin_opt_list(p, "item", 0, &s), 0);
	CHECK(s && !strcmp(s, "first"));
	CHECK_EQ(cp_plugin_opt_list(p, "item", 1, &s), -ERANGE);
	/* Undeclared key, wrong type. */
	CHECK_EQ(cp_plugin_opt_bool(p, "nope", &b), -ENOENT);
	CHECK_EQ(cp_plugin_opt_int(p, "flag", &n), -EINVAL);
	CHECK_EQ(cp_plugin_opt_string(p, "item", &s), -EINVAL);
	plugins_unload();
}

static void t_keys_from_config(void)
{
	struct options *o = opts_new();
	struct opt_origin org;
	struct cp_plugin *p;
	const char *s = NULL;
	long long n = 0;
	bool b = true;

	CHECK(o != NULL);
	org = conf_line(3);
	opts_plugin_kv_add(o, "pk", "flag", "off", &org);
	org = conf_line(4);
	opts_plugin_kv_add(o, "pk", "count", "12", &org);
	org = conf_line(5);
	opts_plugin_kv_add(o, "pk", "count", "-3", &org);
	org = conf_line(6);
	opts_plugin_kv_add(o, "pk", "item", "a", &org);
	org = conf_line(7);
	opts_plugin_kv_add(o, "pk", "item", "b", &org);
	org = conf_line(8);
	opts_plugin_kv_add(o, "other", "count", "99", &org);

	p = start_pk(o);
	CHECK_EQ(plugin_keys_check(o), 0);
	CHECK_LOG("test.conf:8: section [plugin.other] is for a plugin that is not loaded");
	CHECK_EQ(cp_plugin_opt_bool(p, "flag", &b), 0);
	CHECK(!b);
	/* The last value wins. */
	CHECK_EQ(cp_plugin_opt_int(p, "count", &n), 0);
	CHECK_EQ(n, -3);
	/* Lists accumulate and replace the default. */
	CHECK_EQ(cp_plugin_opt_list(p, "item", 0, NULL), 2);
	CHECK_EQ(cp_plugin_opt_list(p, "item", 1, &s), 0);
	CHECK(s && !strcmp(s, "b"));
	CHECK_EQ(cp_plugin_opt_string(p, "mode", &s), 0);
	CHECK(s && !strcmp(s, "fast"));
	plugins_unload();
	opts_free(o);
}

static void t_keys_check_errors(void)
{
	struct options *o = opts_new();
	struct opt_origin org;
	long long n;

	CHECK(o != NULL);
	org = conf_line(9);
	opts_plugin_kv_add(o, "pk", "bogus", "1", &org);
	org = conf_line(10);
	opts_plugin_kv_add(o, "pk", "count", "ten", &org);
	org = conf_line(11);
	opts_plugin_kv_add(o, "pk", "flag", "maybe", &org);

	start_pk(o);
	CHECK_EQ(plugin_keys_check(o), -EINVAL);
	CHECK_LOG("test.conf:9: unknown key 'bogus' in [plugin.pk]");
	CHECK_LOG("test.conf:10: bad value 'ten' for key 'count' in [plugin.pk]: expected an integer");
	CHECK_LOG("test.conf:11: bad value 'maybe' for key 'flag' in [plugin.pk]: expected a boolean");
	CHECK_EQ(cp_plugin_opt_int(plugin_find("pk"), "count", &n), -EINVAL);
	plugins_unload();
	opts_free(o);
}

static void t_core_options(void)
{
	const struct opt_desc *libdir = opt_find("libdir");
	struct options *o = opts_new();
	const char *s = "x";
	long long n;
	bool b = true;

	CHECK(o && libdir);
	/* Without options (no plugins_load yet) there is nothing to read. */
	CHECK_EQ(cp_opt_string("libdir", &s), -ENOENT);
	plugin_set_options(o);
	CHECK_EQ(cp_opt_string("libdir", &s), 0);
	CHECK(s == NULL);
	CHECK_EQ(opt_set_text(o, libdir->id, "/some/dir", NULL), 0);
	CHECK_EQ(cp_opt_string("libdir", &s), 0);
	CHECK(s && !strcmp(s, "/some/dir"));
	CHECK_EQ(cp_opt_bool("tcp-established", &b), 0);
	CHECK(!b);
	CHECK_EQ(cp_opt_int("ghost-limit", &n), 0);
	CHECK(n > 0);
	CHECK_EQ(cp_opt_list("external", 0, NULL), 0);
	CHECK_EQ(cp_opt_list("external", 0, &s), -ERANGE);
	CHECK_EQ(cp_opt_bool("libdir", &b), -EINVAL);
	CHECK_EQ(cp_opt_int("no-such-option", &n), -ENOENT);
	CHECK_EQ(cp_opt_string(NULL, &s), -EINVAL);
	plugin_set_options(NULL);
	opts_free(o);
}

/* Describe one of our own fds the way the dump does. */
static const char *hint_of(int fd)
{
	static char link[256];
	struct cp_fd_desc d = { .size = sizeof(d), .pid = getpid(), .fd = fd, .local_fd = fd };
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	d.link = link;
	fstat(fd, &d.st);
	return plugins_hint_for_fd(&d);
}

static bool is(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static void t_hint_for_fd(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int p[2], sp[2], lsk, csk, ask, efd, nul, reg, pidfd;

	CHECK_EQ(pipe(p), 0);
	CHECK(is(hint_of(p[0]), "files"));
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CHECK(is(hint_of(sp[0]), "sockets"));
	efd = eventfd(0, 0);
	CHECK(is(hint_of(efd), "files"));
	nul = open("/dev/null", O_RDONLY);
	CHECK(is(hint_of(nul), "devices"));
	reg = open("/proc/self/status", O_RDONLY);
	CHECK(is(hint_of(reg), "files"));

	/* A listening TCP socket is the sockets plugin's; a connected one tcp's. */
	lsk = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(bind(lsk, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(listen(lsk, 1), 0);
	CHECK_EQ(getsockname(lsk, (struct sockaddr *)&sa, &len), 0);
	CHECK(is(hint_of(lsk), "sockets"));
	csk = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(connect(csk, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ask = accept(lsk, NULL, NULL);
	CHECK(is(hint_of(csk), "tcp"));
	CHECK(is(hint_of(ask), "tcp"));

	/* Nobody handles pidfds (yet). */
	pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd >= 0)
		CHECK(is(hint_of(pidfd), NULL));

	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
	close(efd);
	close(nul);
	close(reg);
	close(lsk);
	close(csk);
	close(ask);
	if (pidfd >= 0)
		close(pidfd);
}

static void t_hint_from_link(void)
{
	static const struct {
		const char *link;
		const char *plugin;
	} cases[] = {
		{ "pipe:[1234]", "files" },
		{ "socket:[99]", "sockets" },
		{ "anon_inode:[eventpoll]", "files" },
		{ "anon_inode:[signalfd]", "files" },
		{ "anon_inode:[timerfd]", "files" },
		{ "anon_inode:inotify", "files" },
		{ "anon_inode:[fanotify]", "files" },
		{ "anon_inode:bpf-map", NULL },
		{ "/memfd:x (deleted)", "files" },
		{ "net:[4026531840]", "namespaces" },
		{ "mnt:[4026531841]", "mounts" },
		{ "cgroup:[4026531835]", "cgroups" },
		{ "user:[4026531837]", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cp_fd_desc d = { .size = sizeof(d), .fd = 3, .local_fd = -1 };

		d.link = cases[i].link;
		if (!is(plugins_hint_for_fd(&d), cases[i].plugin)) {
			printf("#   %s -> %s, expected %s\n", cases[i].link,
			       plugins_hint_for_fd(&d) ? plugins_hint_for_fd(&d) : "NULL",
			       cases[i].plugin ? cases[i].plugin : "NULL");
			tap_failed = 1;
		}
	}
}

static void t_task_read_mem(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char src[64] = "the quick brown fox", dst[64] = { 0 };
	char *hidden;

	CHECK_EQ(cp_task_read_mem(getpid(), (uintptr_t)src, dst, sizeof(src)), sizeof(src));
	CHECK(!memcmp(src, dst, sizeof(src)));
	CHECK_EQ(cp_task_read_mem(getpid(), (uintptr_t)src, dst, 0), 0);
	CHECK_EQ(cp_task_read_mem(0, (uintptr_t)src, dst, 1), -EINVAL);

	/* process_vm_readv() refuses PROT_NONE; /proc/PID/mem reads it. */
	hidden = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(hidden != MAP_FAILED);
	strcpy(hidden, "behind PROT_NONE");
	CHECK_EQ(mprotect(hidden, page, PROT_NONE), 0);
	memset(dst, 0, sizeof(dst));
	CHECK_EQ(cp_task_read_mem(getpid(), (uintptr_t)hidden, dst, 17), 17);
	CHECK(!strcmp(dst, "behind PROT_NONE"));
	munmap(hidden, page);

	/* Unmapped: an error, logged with the pid and address. */
	CHECK(cp_task_read_mem(getpid(), 8, dst, 8) < 0);
	CHECK_LOG("Can't read 8 bytes at 0x8 of pid");
}

static void t_task_dup_fd(void)
{
	struct stat a, b;
	int p[2], fd;

	CHECK_EQ(pipe(p), 0);
	fd = cp_task_dup_fd(getpid(), p[0]);
	if (fd == -ENOSYS) {
		printf("#   pidfd_getfd() not available: skipped\n");
		goto out;
	}
	CHECK(fd >= 0);
	CHECK_EQ(fstat(p[0], &a), 0);
	CHECK_EQ(fstat(fd, &b), 0);
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	CHECK_EQ(cp_task_dup_fd(getpid(), 1000000), -EBADF);
	CHECK_LOG("Can't get fd 1000000 of pid");
	CHECK_EQ(cp_task_dup_fd(-1, 0), -EINVAL);
out:
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_keys_declare),      TAP_TEST(t_keys_defaults), TAP_TEST(t_keys_from_config),
		TAP_TEST(t_keys_check_errors), TAP_TEST(t_core_options),  TAP_TEST(t_hint_for_fd),
		TAP_TEST(t_hint_from_link),    TAP_TEST(t_task_read_mem), TAP_TEST(t_task_dup_fd),
	};

	return tap_run(tests, TAP_COUNT(tests), &plugins_tap_opts);
}
