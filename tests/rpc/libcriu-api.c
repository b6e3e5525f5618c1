// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A libcriu client written only against the installed criu.h (built with
 * `pkg-config --cflags --libs criu`): it calls every exported function,
 * then asks criu for its version, a check and a feature check over each
 * way of reaching it (swrk, a service socket, a given fd).
 *
 * Usage: libcriu-api CRIU-BINARY SERVICE-SOCKET
 * Prints TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu.h>

/* Exported by CRIU's libcriu.so.2 but not declared in its criu.h. */
extern const char *criu_lib_version;
void criu_free_service(criu_opts *opts);
void criu_local_set_unprivileged(criu_opts *opts, bool unprivileged);

static int n_tests, n_failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(int cond, const char *fmt, ...)
{
	va_list args;

	printf("%sok %d - ", cond ? "" : "not ", ++n_tests);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
	if (!cond)
		n_failed++;
}

static int notify_cb(char *action, criu_notify_arg_t na)
{
	(void)action;
	(void)criu_notify_pid(na);
	return 0;
}

static int more_cb(criu_predump_info pi)
{
	(void)pi;
	return 0;
}

/* Every global setter once; returns how many string setters failed. */
static int call_global_setters(int dirfd)
{
	char *cmd[] = { "/bin/true", "arg", NULL };
	int bad = 0;

	criu_set_pid(getpid());
	criu_set_images_dir_fd(dirfd);
	bad += criu_set_parent_images("../parent") != 0;
	criu_set_work_dir_fd(dirfd);
	criu_set_leave_running(true);
	criu_set_ext_unix_sk(true);
	bad += criu_add_unix_sk(1234) != 0;
	criu_set_tcp_established(true);
	criu_set_tcp_skip_in_flight(true);
	criu_set_tcp_close(false);
	criu_set_weak_sysctls(true);
	criu_set_evasive_devices(true);
	criu_set_shell_job(true);
	criu_set_skip_file_rwx_check(true);
	criu_set_unprivileged(false);
	criu_set_orphan_pts_master(false);
	criu_set_file_locks(true);
	criu_set_track_mem(false);
	criu_set_auto_dedup(false);
	criu_set_force_irmap(false);
	criu_set_link_remap(true);
	criu_set_log_level(CRIU_LOG_DEBUG);
	bad += criu_set_log_file("libcriu-api.log") != 0;
	criu_set_cpu_cap(3);
	bad += criu_set_root("/") != 0;
	criu_set_manage_cgroups(true);
	criu_set_manage_cgroups_mode(CRIU_CG_MODE_SOFT);
	bad += criu_set_freeze_cgroup("/sys/fs/cgroup/x") != 0;
	bad += criu_set_lsm_profile("apparmor:unconfined") != 0;
	bad += criu_set_lsm_mount_context("system_u:object_r:container_file_t:s0") != 0;
	criu_set_timeout(10);
	criu_set_auto_ext_mnt(false);
	criu_set_ext_sharing(false);
	criu_set_ext_masters(false);
	bad += criu_set_exec_cmd(2, cmd) != 0;
	bad += criu_add_ext_mount("/mnt", "ext") != 0;
	bad += criu_add_veth_pair("eth0", "veth0") != 0;
	bad += criu_add_cg_root(NULL, "/x") != 0;
	bad += criu_add_cg_root("cpu", "/y") != 0;
	bad += criu_add_enable_fs("ext4") != 0;
	bad += criu_add_skip_mnt("/skip") != 0;
	criu_set_ghost_limit(1 << 20);
	bad += criu_add_irmap_path("/usr") != 0;
	bad += criu_add_inherit_fd(0, "pipe[1]") != 0; /* BIN comm: allowed */
	bad += criu_add_external("mnt[]") != 0;
	bad += criu_set_page_server_address_port("127.0.0.1", 1234) != 0;
	bad += criu_set_pre_dump_mode(CRIU_PRE_DUMP_READ) != 0;
	bad += criu_set_pre_dump_mode((enum criu_pre_dump_mode)7) == 0; /* refused */
	criu_set_pidfd_store_sk(-1);
	bad += criu_set_network_lock(CRIU_NETWORK_LOCK_SKIP) != 0;
	bad += criu_set_network_lock((enum criu_network_lock_method)9) == 0; /* refused */
	bad += criu_join_ns_add("net", "/proc/1/ns/net", NULL) != 0;
	criu_set_mntns_compat_mode(false);
	bad += criu_set_config_file("/dev/null") != 0;
	criu_set_empty_ns(0);
	criu_set_notify_cb(notify_cb);
	return bad;
}

/* Every local setter once, on OPTS. */
static int call_local_setters(criu_opts *o, int dirfd)
{
	char *cmd[] = { "/bin/true", NULL };
	int bad = 0;

	criu_local_set_pid(o, getpid());
	criu_local_set_images_dir_fd(o, dirfd);
	bad += criu_local_set_parent_images(o, "../parent") != 0;
	criu_local_set_work_dir_fd(o, dirfd);
	criu_local_set_leave_running(o, true);
	criu_local_set_ext_unix_sk(o, false);
	bad += criu_local_add_unix_sk(o, 1) == 0; /* ext_unix_sk was turned off: refused */
	criu_local_set_tcp_established(o, true);
	criu_local_set_tcp_skip_in_flight(o, true);
	criu_local_set_tcp_close(o, true);
	criu_local_set_weak_sysctls(o, true);
	criu_local_set_evasive_devices(o, true);
	criu_local_set_shell_job(o, true);
	criu_local_set_skip_file_rwx_check(o, true);
	criu_local_set_unprivileged(o, false);
	criu_local_set_orphan_pts_master(o, true);
	criu_local_set_file_locks(o, true);
	criu_local_set_track_mem(o, true);
	criu_local_set_auto_dedup(o, true);
	criu_local_set_force_irmap(o, true);
	criu_local_set_link_remap(o, true);
	criu_local_set_log_level(o, CRIU_LOG_DEBUG);
	bad += criu_local_set_log_file(o, "local.log") != 0;
	criu_local_set_cpu_cap(o, 1);
	bad += criu_local_set_root(o, "/") != 0;
	criu_local_set_manage_cgroups(o, false);
	criu_local_set_manage_cgroups_mode(o, CRIU_CG_MODE_FULL);
	bad += criu_local_set_freeze_cgroup(o, "/x") != 0;
	bad += criu_local_set_lsm_profile(o, "p") != 0;
	bad += criu_local_set_lsm_mount_context(o, "c") != 0;
	criu_local_set_timeout(o, 5);
	criu_local_set_auto_ext_mnt(o, true);
	criu_local_set_ext_sharing(o, true);
	criu_local_set_ext_masters(o, true);
	bad += criu_local_set_exec_cmd(o, 1, cmd) != 0;
	bad += criu_local_add_ext_mount(o, "k", "v") != 0;
	bad += criu_local_add_veth_pair(o, "a", "b") != 0;
	bad += criu_local_add_cg_root(o, "memory", "/m") != 0;
	bad += criu_local_add_enable_fs(o, "nfs") != 0;
	bad += criu_local_add_skip_mnt(o, "/s") != 0;
	criu_local_set_ghost_limit(o, 4096);
	bad += criu_local_add_irmap_path(o, "/etc") != 0;
	bad += criu_local_add_cg_props(o, "\"cpu\": {}") != 0;
	bad += criu_local_add_cg_props_file(o, "/dev/null") != 0;
	bad += criu_local_add_cg_dump_controller(o, "cpu") != 0;
	bad += criu_local_add_cg_yard(o, "/sys/fs/cgroup") != 0;
	bad += criu_local_add_inherit_fd(o, 1, "pipe[2]") != 0;
	bad += criu_local_add_external(o, "dev[1/3]:null") != 0;
	bad += criu_local_set_page_server_address_port(o, NULL, 0) != 0;
	bad += criu_local_set_pre_dump_mode(o, CRIU_PRE_DUMP_SPLICE) != 0;
	criu_local_set_pidfd_store_sk(o, -1);
	bad += criu_local_set_network_lock(o, CRIU_NETWORK_LOCK_NFTABLES) != 0;
	bad += criu_local_join_ns_add(o, "uts", "/proc/1/ns/uts", "x") != 0;
	criu_local_set_mntns_compat_mode(o, true);
	bad += criu_local_set_config_file(o, "/dev/null") != 0;
	criu_local_set_empty_ns(o, 0);
	criu_local_set_notify_cb(o, notify_cb);
	return bad;
}

/* VERSION, CHECK and FEATURE_CHECK on OPTS; NAME says how criu is reached. */
static void talk(criu_opts *o, const char *name)
{
	struct criu_feature_check fc = { .mem_track = true, .lazy_pages = true, .pidfd_store = true };
	struct {
		bool mem_track;
	} old_fc = { true };
	int v, ret;

	v = criu_local_get_version(o);
	/* 4.2 is 40200; a build from git counts as 40300 (CRIU's rule). */
	ok(v == 40200 || v == 40300, "%s: criu_local_get_version() = %d", name, v);
	ok(criu_local_check_version(o, 40200) == 1, "%s: criu_local_check_version(40200) = 1", name);
	ok(criu_local_check_version(o, 50000) == 0, "%s: criu_local_check_version(50000) = 0", name);
	ret = criu_local_check(o);
	ok(ret == 0 || ret == -EBADE, "%s: criu_local_check() answers (%d)", name, ret);
	ret = criu_local_feature_check(o, &fc, sizeof(fc));
	ok(ret == 0 && fc.pidfd_store, "%s: criu_local_feature_check() = %d, pidfd_store %d", name, ret,
	   fc.pidfd_store);
	ret = criu_local_feature_check(o, (struct criu_feature_check *)&old_fc, sizeof(old_fc));
	ok(ret == 0, "%s: an older, shorter struct criu_feature_check works (%d)", name, ret);
	ret = criu_local_feature_check(o, &fc, sizeof(fc) + 1);
	ok(ret < 0, "%s: a longer struct criu_feature_check is refused (%d)", name, ret);
}

/* The local actions with nothing to act on: well-formed failures. */
static void local_actions(criu_opts *o, int dirfd)
{
	int ret;

	criu_local_set_images_dir_fd(o, dirfd);
	criu_local_set_log_file(o, "local-actions.log");
	criu_local_set_pid(o, 0x3ffffff0);
	ret = criu_local_dump(o);
	ok(ret == -EBADE && errno == ESRCH, "criu_local_dump() of no such pid: errno ESRCH (%d)", errno);
	ret = criu_local_pre_dump(o);
	ok(ret == -EBADE && errno == ESRCH, "criu_local_pre_dump() of no such pid: errno ESRCH (%d)", errno);
	ret = criu_local_dump_iters(o, more_cb);
	ok(ret == -EBADE && errno == ESRCH, "criu_local_dump_iters() of no such pid: errno ESRCH (%d)", errno);
	ret = criu_local_restore(o);
	ok(ret == -EBADE, "criu_local_restore() of an empty dir is -EBADE (%d)", ret);
	ret = criu_local_restore_child(o);
	ok(ret == -EBADE, "criu_local_restore_child() of an empty dir is -EBADE (%d)", ret);
}

/* Start "CRIU swrk FD" on a socket pair by hand, for CRIU_COMM_FD. */
static int start_swrk(const char *criu, pid_t *pid)
{
	int sks[2];
	char arg[16];

	if (socketpair(AF_LOCAL, SOCK_SEQPACKET, 0, sks))
		return -1;
	*pid = fork();
	if (*pid == 0) {
		close(sks[0]);
		snprintf(arg, sizeof(arg), "%d", sks[1]);
		execl(criu, criu, "swrk", arg, (char *)NULL);
		_exit(127);
	}
	close(sks[1]);
	return sks[0];
}

int main(int argc, char **argv)
{
	criu_opts *o = NULL;
	const char *criu, *address;
	int dirfd, ret, sk;
	pid_t swrk;

	if (argc != 3) {
		fprintf(stderr, "Usage: %s CRIU-BINARY SERVICE-SOCKET\n", argv[0]);
		return 2;
	}
	criu = argv[1];
	address = argv[2];
	dirfd = open(".", O_RDONLY | O_DIRECTORY);

	ok(criu_lib_version && !strcmp(criu_lib_version, CRIU_VERSION), "criu_lib_version is \"%s\"", criu_lib_version);

	/* The global options. */
	ok(criu_init_opts() == 0, "criu_init_opts()");
	ok(criu_set_service_binary(criu) == 0, "criu_set_service_binary()");
	ret = call_global_setters(dirfd);
	ok(ret == 0, "every global setter accepted its value (%d refused)", ret);
	ok(criu_init_opts() == 0, "criu_init_opts() again resets them");
	criu_set_service_binary(criu);
	criu_set_log_level(CRIU_LOG_DEBUG);
	ret = criu_get_version();
	ok(ret == 40200 || ret == 40300, "criu_get_version() = %d", ret);
	ok(criu_check_version(40000) == 1, "criu_check_version(40000) = 1");
	ret = criu_check();
	ok(ret == 0 || ret == -EBADE, "criu_check() answers (%d)", ret);
	{
		struct criu_feature_check fc = { .pidfd_store = true };

		ret = criu_feature_check(&fc, sizeof(fc));
		ok(ret == 0 && fc.pidfd_store && !fc.mem_track, "criu_feature_check() = %d", ret);
	}
	ok(criu_dump_iters(more_cb) == -EINVAL, "criu_dump_iters() without a pid is -EINVAL");
	ok(criu_dump_iters(NULL) == -EINVAL, "criu_dump_iters() without a callback is -EINVAL");
	ok(criu_get_orphan_pts_master_fd() == -1, "criu_get_orphan_pts_master_fd() is -1 before any");
	ok(criu_notify_pid(NULL) == 0, "criu_notify_pid(NULL) = 0");

	/* The actions with nothing to act on: well-formed failures. */
	criu_set_images_dir_fd(dirfd);
	criu_set_log_file("libcriu-api.log");
	ret = criu_restore();
	ok(ret == -EBADE && errno != 0, "criu_restore() of an empty dir is -EBADE, errno %d", errno);
	criu_set_pid(0x3ffffff0);
	ret = criu_dump();
	ok(ret == -EBADE && errno == ESRCH, "criu_dump() of no such pid is -EBADE, errno ESRCH (%d)", errno);
	ret = criu_pre_dump();
	ok(ret == -EBADE && errno == ESRCH, "criu_pre_dump() of no such pid: errno ESRCH (%d)", errno);
	ret = criu_dump_iters(more_cb);
	ok(ret == -EBADE && errno == ESRCH, "criu_dump_iters() of no such pid: errno ESRCH (%d)", errno);
	ret = criu_restore_child();
	ok(ret == -EBADE, "criu_restore_child() of an empty dir is -EBADE (%d)", ret);

	/* Unreachable criu. */
	criu_set_service_binary("/nonexistent/criu");
	ok(criu_get_version() == -ECONNREFUSED, "a missing binary gives -ECONNREFUSED");
	ok(criu_set_service_address("/nonexistent/criu.sock") == 0, "criu_set_service_address()");
	ok(criu_check() == -ECONNREFUSED, "a missing socket gives -ECONNREFUSED");
	criu_set_service_fd(-1);
	ok(criu_check() < 0, "a bad fd fails");
	criu_free_opts();

	/* Local options, over each kind of connection. */
	ok(criu_local_init_opts(&o) == 0, "criu_local_init_opts()");
	ret = call_local_setters(o, dirfd);
	ok(ret == 0, "every local setter behaved (%d misbehaved)", ret);
	criu_local_free_opts(o);

	criu_local_init_opts(&o);
	criu_local_set_service_binary(o, criu);
	talk(o, "swrk");
	local_actions(o, dirfd);
	criu_local_free_opts(o);
	criu_local_init_opts(&o);
	criu_local_set_service_binary(o, criu);

	ok(criu_local_set_service_address(o, address) == 0, "criu_local_set_service_address()");
	ok(criu_local_add_inherit_fd(o, 0, "x") < 0, "criu_local_add_inherit_fd() needs swrk");
	talk(o, "service");

	/* CRIU_COMM_FD: the library closes the fd after each call, as CRIU's. */
	sk = start_swrk(criu, &swrk);
	criu_local_set_service_fd(o, sk);
	ret = criu_local_get_version(o);
	ok(ret == 40200 || ret == 40300, "fd: criu_local_get_version() = %d", ret);
	waitpid(swrk, NULL, 0);

	criu_free_service(o);
	criu_local_free_opts(o);
	close(dirfd);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
