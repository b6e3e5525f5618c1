// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The libcriu side of tests/rpc/options-equiv.t: call one libcriu setter,
 * then one action with log level 4, so that the effective configuration
 * criu logs at the start of the request can be compared with what the
 * command line, a config file and a raw RPC request give.
 *
 * Usage: lib-opts CRIU ACTION DIR PID SETTER [ARG...]
 *   ACTION  dump, pre_dump or restore
 *   DIR     images directory (passed as images_dir_fd); the log is
 *           lib.log in it (or in the work dir, if the setter names one)
 *   PID     for criu_set_pid, 0 for none
 *   SETTER  a criu_* setter name; ARGs are its arguments (a directory
 *           for the *_fd setters, 0/1 for booleans)
 * Prints the action's return value; exits 0 when the setter accepted
 * its value (the action itself may well fail).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "criu.h"

typedef int (*setter_fn)(char **args, int nargs);

static bool arg_bool(const char *s)
{
	return strcmp(s, "0") && strcmp(s, "false");
}

#define BOOL_SETTER(name)                     \
	static int do_##name(char **a, int n) \
	{                                     \
		if (n != 1)                   \
			return -EINVAL;       \
		criu_##name(arg_bool(a[0]));  \
		return 0;                     \
	}
#define UINT_SETTER(name)                            \
	static int do_##name(char **a, int n)        \
	{                                            \
		if (n != 1)                          \
			return -EINVAL;              \
		criu_##name(strtoul(a[0], NULL, 0)); \
		return 0;                            \
	}
#define STR_SETTER(name)                                     \
	static int do_##name(char **a, int n)                \
	{                                                    \
		return n == 1 ? criu_##name(a[0]) : -EINVAL; \
	}
#define STR2_SETTER(name)                                          \
	static int do_##name(char **a, int n)                      \
	{                                                          \
		return n == 2 ? criu_##name(a[0], a[1]) : -EINVAL; \
	}
#define DIR_SETTER(name)                                                   \
	static int do_##name(char **a, int n)                              \
	{                                                                  \
		int fd = n == 1 ? open(a[0], O_RDONLY | O_DIRECTORY) : -1; \
		if (fd < 0)                                                \
			return -EINVAL;                                    \
		criu_##name(fd);                                           \
		return 0;                                                  \
	}

BOOL_SETTER(set_leave_running)
BOOL_SETTER(set_ext_unix_sk)
BOOL_SETTER(set_tcp_established)
BOOL_SETTER(set_evasive_devices)
BOOL_SETTER(set_shell_job)
BOOL_SETTER(set_file_locks)
BOOL_SETTER(set_track_mem)
BOOL_SETTER(set_auto_dedup)
BOOL_SETTER(set_force_irmap)
BOOL_SETTER(set_link_remap)
BOOL_SETTER(set_manage_cgroups)
BOOL_SETTER(set_ext_sharing)
BOOL_SETTER(set_ext_masters)
BOOL_SETTER(set_auto_ext_mnt)
BOOL_SETTER(set_tcp_skip_in_flight)
BOOL_SETTER(set_tcp_close)
BOOL_SETTER(set_weak_sysctls)
UINT_SETTER(set_pid)
UINT_SETTER(set_cpu_cap)
UINT_SETTER(set_ghost_limit)
UINT_SETTER(set_timeout)
UINT_SETTER(set_log_level)
STR_SETTER(set_parent_images)
STR_SETTER(set_log_file)
STR_SETTER(set_root)
STR_SETTER(set_freeze_cgroup)
STR_SETTER(add_enable_fs)
STR_SETTER(add_skip_mnt)
STR_SETTER(add_irmap_path)
STR_SETTER(add_external)
STR_SETTER(set_lsm_profile)
STR2_SETTER(add_ext_mount)
STR2_SETTER(add_veth_pair)
DIR_SETTER(set_work_dir_fd)
DIR_SETTER(set_images_dir_fd)

static int do_add_cg_root(char **a, int n)
{
	if (n == 1)
		return criu_add_cg_root(NULL, a[0]);
	return n == 2 ? criu_add_cg_root(a[0], a[1]) : -EINVAL;
}

static int do_add_unix_sk(char **a, int n)
{
	return n == 1 ? criu_add_unix_sk(strtoul(a[0], NULL, 0)) : -EINVAL;
}

static int do_add_inherit_fd(char **a, int n)
{
	return n == 2 ? criu_add_inherit_fd(atoi(a[0]), a[1]) : -EINVAL;
}

static int do_set_exec_cmd(char **a, int n)
{
	return criu_set_exec_cmd(n, a);
}

static int do_set_page_server_address_port(char **a, int n)
{
	return n == 2 ? criu_set_page_server_address_port(a[0], atoi(a[1])) : -EINVAL;
}

static int do_set_manage_cgroups_mode(char **a, int n)
{
	if (n != 1)
		return -EINVAL;
	criu_set_manage_cgroups_mode((enum criu_cg_mode)atoi(a[0]));
	return 0;
}

static int do_set_network_lock(char **a, int n)
{
	return n == 1 ? criu_set_network_lock((enum criu_network_lock_method)atoi(a[0])) : -EINVAL;
}

static int do_set_pre_dump_mode(char **a, int n)
{
	return n == 1 ? criu_set_pre_dump_mode((enum criu_pre_dump_mode)atoi(a[0])) : -EINVAL;
}

static const struct {
	const char *name;
	setter_fn fn;
} setters[] = {
#define S(name)                          \
	{                                \
		"criu_" #name, do_##name \
	}
	S(set_leave_running),
	S(set_ext_unix_sk),
	S(set_tcp_established),
	S(set_evasive_devices),
	S(set_shell_job),
	S(set_file_locks),
	S(set_track_mem),
	S(set_auto_dedup),
	S(set_force_irmap),
	S(set_link_remap),
	S(set_manage_cgroups),
	S(set_ext_sharing),
	S(set_ext_masters),
	S(set_auto_ext_mnt),
	S(set_tcp_skip_in_flight),
	S(set_tcp_close),
	S(set_weak_sysctls),
	S(set_pid),
	S(set_cpu_cap),
	S(set_ghost_limit),
	S(set_timeout),
	S(set_log_level),
	S(set_parent_images),
	S(set_log_file),
	S(set_root),
	S(set_freeze_cgroup),
	S(add_enable_fs),
	S(add_skip_mnt),
	S(add_irmap_path),
	S(add_external),
	S(set_lsm_profile),
	S(add_ext_mount),
	S(add_veth_pair),
	S(set_work_dir_fd),
	S(set_images_dir_fd),
	S(add_cg_root),
	S(add_unix_sk),
	S(add_inherit_fd),
	S(set_exec_cmd),
	S(set_page_server_address_port),
	S(set_manage_cgroups_mode),
	S(set_network_lock),
	S(set_pre_dump_mode),
#undef S
};

int main(int argc, char **argv)
{
	const char *action;
	setter_fn fn = NULL;
	int dirfd, pid, ret;

	if (argc < 6) {
		fprintf(stderr, "Usage: %s CRIU ACTION DIR PID SETTER [ARG...]\n", argv[0]);
		return 2;
	}
	action = argv[2];
	pid = atoi(argv[4]);
	for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++)
		if (!strcmp(setters[i].name, argv[5]))
			fn = setters[i].fn;
	if (!fn) {
		fprintf(stderr, "lib-opts: unknown setter %s\n", argv[5]);
		return 2;
	}

	dirfd = open(argv[3], O_RDONLY | O_DIRECTORY);
	if (dirfd < 0 || criu_init_opts() || criu_set_service_binary(argv[1]))
		return 2;
	criu_set_images_dir_fd(dirfd);
	criu_set_log_level(CRIU_LOG_DEBUG);
	criu_set_log_file("lib.log");
	if (pid > 0)
		criu_set_pid(pid);

	ret = fn(argv + 6, argc - 6);
	if (ret) {
		fprintf(stderr, "lib-opts: %s refused its value: %d\n", argv[5], ret);
		return 1;
	}

	if (!strcmp(action, "dump"))
		ret = criu_dump();
	else if (!strcmp(action, "pre_dump"))
		ret = criu_pre_dump();
	else if (!strcmp(action, "restore"))
		ret = criu_restore();
	else
		return 2;
	printf("%d\n", ret);
	criu_free_opts();
	close(dirfd);
	return 0;
}
