// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcriu options: the criu_opts object, where criu is, and one setter per
 * criu_opts field of rpc.proto. Each criu_set_X() is criu_local_set_X()
 * on the global options.
 *
 * Two deliberate differences from CRIU 4.2's library, both fixes of what
 * its header promises: criu_set_timeout() really sends the timeout, and
 * criu_set_page_server_address_port() returns 0 on success (CRIU returns
 * -ENOMEM on every path, so no working caller checks it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcriu-priv.h"

CRIU_EXPORT const char *criu_lib_version = CRIU_VERSION;

static criu_opts *global_opts;

/* Replace *DST by a copy of SRC (NULL clears it). */
static int set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src) {
		copy = strdup(src);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

/* Append a copy of S to a repeated string field. */
static int add_str(size_t *n, char ***arr, const char *s)
{
	char **grown;
	char *copy;

	if (!s)
		return -EINVAL;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	grown[*n] = copy;
	*arr = grown;
	(*n)++;
	return 0;
}

/* Append the message pointer M to a repeated message field. */
static int add_msg(size_t *n, void ***arr, void *m)
{
	void **grown;

	grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!grown)
		return -ENOMEM;
	grown[*n] = m;
	*arr = grown;
	(*n)++;
	return 0;
}

/* Lifecycle */

void criu_free_service(criu_opts *opts);

CRIU_EXPORT void criu_free_service(criu_opts *opts)
{
	if (!opts)
		return;
	free(opts->service_address);
	opts->service_address = NULL;
	free(opts->service_binary);
	opts->service_binary = NULL;
}

CRIU_EXPORT void criu_local_free_opts(criu_opts *opts)
{
	if (!opts)
		return;
	if (opts->rpc)
		criu_opts__free_unpacked(opts->rpc, NULL);
	criu_free_service(opts);
	free(opts);
}

CRIU_EXPORT int criu_local_init_opts(criu_opts **o)
{
	criu_opts *opts;
	int ret = -ENOMEM;

	if (!o)
		return -EINVAL;
	opts = calloc(1, sizeof(*opts));
	if (!opts)
		goto err;
	opts->rpc = malloc(sizeof(*opts->rpc));
	if (!opts->rpc)
		goto err_opts;
	criu_opts__init(opts->rpc);
	/* "No fd given": criu then uses images_dir or refuses. */
	opts->rpc->images_dir_fd = -1;
	opts->service_comm = CRIU_COMM_BIN;
	opts->service_fd = -1;
	opts->service_binary = strdup(LC_DEFAULT_BINARY);
	if (!opts->service_binary)
		goto err_rpc;
	opts->swrk_pid = -1;
	opts->spawn_pid = -1;
	*o = opts;
	return 0;

err_rpc:
	free(opts->rpc);
err_opts:
	free(opts);
err:
	return ret;
}

CRIU_EXPORT int criu_init_opts(void)
{
	criu_opts *fresh;
	int ret;

	ret = criu_local_init_opts(&fresh);
	if (ret)
		return ret;
	criu_local_free_opts(global_opts);
	global_opts = fresh;
	return 0;
}

CRIU_EXPORT void criu_free_opts(void)
{
	criu_local_free_opts(global_opts);
	global_opts = NULL;
}

/*
 * CRIU crashes when a criu_X() call comes before criu_init_opts(); we
 * create the defaults instead, and the setters of a failed allocation
 * do nothing.
 */
criu_opts *lc_global(void)
{
	if (!global_opts)
		criu_init_opts();
	return global_opts;
}

/* Where criu is */

CRIU_EXPORT int criu_local_set_service_address(criu_opts *opts, const char *path)
{
	int ret = set_str(&opts->service_address, path ? path : LC_DEFAULT_ADDRESS);

	if (!ret)
		opts->service_comm = CRIU_COMM_SK;
	return ret;
}

CRIU_EXPORT void criu_local_set_service_fd(criu_opts *opts, int fd)
{
	opts->service_comm = CRIU_COMM_FD;
	opts->service_fd = fd;
}

CRIU_EXPORT int criu_local_set_service_binary(criu_opts *opts, const char *path)
{
	int ret = set_str(&opts->service_binary, path ? path : LC_DEFAULT_BINARY);

	if (!ret)
		opts->service_comm = CRIU_COMM_BIN;
	return ret;
}

CRIU_EXPORT int criu_set_service_address(const char *path)
{
	criu_opts *g = lc_global();

	return g ? criu_local_set_service_address(g, path) : -ENOMEM;
}

CRIU_EXPORT void criu_set_service_fd(int fd)
{
	criu_opts *g = lc_global();

	if (g)
		criu_local_set_service_fd(g, fd);
}

CRIU_EXPORT int criu_set_service_binary(const char *path)
{
	criu_opts *g = lc_global();

	return g ? criu_local_set_service_binary(g, path) : -ENOMEM;
}

/*
 * Setter families. Each macro defines criu_local_<name> and its global
 * twin criu_<name>, so the pair cannot drift apart.
 */

/* void criu_set_X(TYPE v): has_FIELD = true, FIELD = v. */
#define SCALAR_SETTER(name, type, field, cast)                        \
	CRIU_EXPORT void criu_local_##name(criu_opts *opts, type val) \
	{                                                             \
		opts->rpc->has_##field = true;                        \
		opts->rpc->field = (cast)val;                         \
	}                                                             \
	CRIU_EXPORT void criu_##name(type val)                        \
	{                                                             \
		criu_opts *g = lc_global();                           \
		if (g)                                                \
			criu_local_##name(g, val);                    \
	}

/* int criu_set_X(const char *s): FIELD = strdup(s). */
#define STRING_SETTER(name, field)                                          \
	CRIU_EXPORT int criu_local_##name(criu_opts *opts, const char *val) \
	{                                                                   \
		return set_str(&opts->rpc->field, val);                     \
	}                                                                   \
	CRIU_EXPORT int criu_##name(const char *val)                        \
	{                                                                   \
		criu_opts *g = lc_global();                                 \
		return g ? criu_local_##name(g, val) : -ENOMEM;             \
	}

/* int criu_add_X(const char *s): append to repeated string FIELD. */
#define STRLIST_ADDER(name, field)                                             \
	CRIU_EXPORT int criu_local_##name(criu_opts *opts, const char *val)    \
	{                                                                      \
		return add_str(&opts->rpc->n_##field, &opts->rpc->field, val); \
	}                                                                      \
	CRIU_EXPORT int criu_##name(const char *val)                           \
	{                                                                      \
		criu_opts *g = lc_global();                                    \
		return g ? criu_local_##name(g, val) : -ENOMEM;                \
	}

SCALAR_SETTER(set_pid, int, pid, int32_t)
SCALAR_SETTER(set_leave_running, bool, leave_running, bool)
SCALAR_SETTER(set_ext_unix_sk, bool, ext_unix_sk, bool)
SCALAR_SETTER(set_tcp_established, bool, tcp_established, bool)
SCALAR_SETTER(set_tcp_skip_in_flight, bool, tcp_skip_in_flight, bool)
SCALAR_SETTER(set_tcp_close, bool, tcp_close, bool)
SCALAR_SETTER(set_weak_sysctls, bool, weak_sysctls, bool)
SCALAR_SETTER(set_evasive_devices, bool, evasive_devices, bool)
SCALAR_SETTER(set_shell_job, bool, shell_job, bool)
SCALAR_SETTER(set_skip_file_rwx_check, bool, skip_file_rwx_check, bool)
SCALAR_SETTER(set_orphan_pts_master, bool, orphan_pts_master, bool)
SCALAR_SETTER(set_file_locks, bool, file_locks, bool)
SCALAR_SETTER(set_track_mem, bool, track_mem, bool)
SCALAR_SETTER(set_auto_dedup, bool, auto_dedup, bool)
SCALAR_SETTER(set_force_irmap, bool, force_irmap, bool)
SCALAR_SETTER(set_link_remap, bool, link_remap, bool)
SCALAR_SETTER(set_log_level, int, log_level, int32_t)
SCALAR_SETTER(set_cpu_cap, unsigned int, cpu_cap, uint32_t)
SCALAR_SETTER(set_manage_cgroups, bool, manage_cgroups, bool)
SCALAR_SETTER(set_manage_cgroups_mode, enum criu_cg_mode, manage_cgroups_mode, CriuCgMode)
SCALAR_SETTER(set_timeout, unsigned int, timeout, uint32_t)
SCALAR_SETTER(set_auto_ext_mnt, bool, auto_ext_mnt, bool)
SCALAR_SETTER(set_ext_sharing, bool, ext_sharing, bool)
SCALAR_SETTER(set_ext_masters, bool, ext_masters, bool)
SCALAR_SETTER(set_ghost_limit, unsigned int, ghost_limit, uint32_t)
SCALAR_SETTER(set_pidfd_store_sk, int, pidfd_store_sk, int32_t)
SCALAR_SETTER(set_mntns_compat_mode, bool, mntns_compat_mode, bool)
SCALAR_SETTER(set_empty_ns, int, empty_ns, uint32_t)
SCALAR_SETTER(set_work_dir_fd, int, work_dir_fd, int32_t)

STRING_SETTER(set_parent_images, parent_img)
STRING_SETTER(set_log_file, log_file)
STRING_SETTER(set_root, root)
STRING_SETTER(set_freeze_cgroup, freeze_cgroup)
STRING_SETTER(set_lsm_profile, lsm_profile)
STRING_SETTER(set_lsm_mount_context, lsm_mount_context)
STRING_SETTER(set_config_file, config_file)

STRLIST_ADDER(add_enable_fs, enable_fs)
STRLIST_ADDER(add_skip_mnt, skip_mnt)
STRLIST_ADDER(add_irmap_path, irmap_scan_paths)
STRLIST_ADDER(add_external, external)

/* criu_set_unprivileged has no local twin in criu.h, but CRIU exports one. */
void criu_local_set_unprivileged(criu_opts *opts, bool val);
SCALAR_SETTER(set_unprivileged, bool, unprivileged, bool)

/* Setters with their own rules */

/* images_dir_fd is the one required field: it has no has_ flag. */
CRIU_EXPORT void criu_local_set_images_dir_fd(criu_opts *opts, int fd)
{
	opts->rpc->images_dir_fd = fd;
}

CRIU_EXPORT void criu_set_images_dir_fd(int fd)
{
	criu_opts *g = lc_global();

	if (g)
		criu_local_set_images_dir_fd(g, fd);
}

CRIU_EXPORT int criu_local_add_unix_sk(criu_opts *opts, unsigned int inode)
{
	UnixSk *sk;
	int ret;

	/* Listing an inode means external unix sockets are wanted ... */
	if (!opts->rpc->has_ext_unix_sk)
		criu_local_set_ext_unix_sk(opts, true);
	/* ... unless the caller explicitly turned them off (CRIU: -1). */
	if (!opts->rpc->ext_unix_sk)
		return -EINVAL;

	sk = malloc(sizeof(*sk));
	if (!sk)
		return -ENOMEM;
	unix_sk__init(sk);
	sk->inode = inode;
	ret = add_msg(&opts->rpc->n_unix_sk_ino, (void ***)&opts->rpc->unix_sk_ino, sk);
	if (ret)
		free(sk);
	return ret;
}

CRIU_EXPORT int criu_add_unix_sk(unsigned int inode)
{
	criu_opts *g = lc_global();

	return g ? criu_local_add_unix_sk(g, inode) : -ENOMEM;
}

CRIU_EXPORT int criu_local_set_exec_cmd(criu_opts *opts, int argc, char *argv[])
{
	char **cmd;
	int i;

	if (argc < 0 || (argc > 0 && !argv))
		return -EINVAL;
	cmd = calloc(argc + 1, sizeof(*cmd));
	if (!cmd)
		return -ENOMEM;
	for (i = 0; i < argc; i++) {
		cmd[i] = strdup(argv[i] ? argv[i] : "");
		if (!cmd[i])
			goto err;
	}
	for (size_t j = 0; j < opts->rpc->n_exec_cmd; j++)
		free(opts->rpc->exec_cmd[j]);
	free(opts->rpc->exec_cmd);
	opts->rpc->exec_cmd = cmd;
	opts->rpc->n_exec_cmd = argc;
	return 0;

err:
	while (i-- > 0)
		free(cmd[i]);
	free(cmd);
	return -ENOMEM;
}

CRIU_EXPORT int criu_set_exec_cmd(int argc, char *argv[])
{
	criu_opts *g = lc_global();

	return g ? criu_local_set_exec_cmd(g, argc, argv) : -ENOMEM;
}

CRIU_EXPORT int criu_local_add_ext_mount(criu_opts *opts, const char *key, const char *val)
{
	ExtMountMap *m;
	int ret = -ENOMEM;

	if (!key || !val)
		return -EINVAL;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	ext_mount_map__init(m);
	m->key = strdup(key);
	m->val = strdup(val);
	if (m->key && m->val)
		ret = add_msg(&opts->rpc->n_ext_mnt, (void ***)&opts->rpc->ext_mnt, m);
	if (ret) {
		free(m->key);
		free(m->val);
		free(m);
	}
	return ret;
}

CRIU_EXPORT int criu_add_ext_mount(const char *key, const char *val)
{
	criu_opts *g = lc_global();

	return g ? criu_local_add_ext_mount(g, key, val) : -ENOMEM;
}

CRIU_EXPORT int criu_local_add_veth_pair(criu_opts *opts, const char *in, const char *out)
{
	CriuVethPair *p;
	int ret = -ENOMEM;

	if (!in || !out)
		return -EINVAL;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	criu_veth_pair__init(p);
	p->if_in = strdup(in);
	p->if_out = strdup(out);
	if (p->if_in && p->if_out)
		ret = add_msg(&opts->rpc->n_veths, (void ***)&opts->rpc->veths, p);
	if (ret) {
		free(p->if_in);
		free(p->if_out);
		free(p);
	}
	return ret;
}

CRIU_EXPORT int criu_add_veth_pair(const char *in, const char *out)
{
	criu_opts *g = lc_global();

	return g ? criu_local_add_veth_pair(g, in, out) : -ENOMEM;
}

CRIU_EXPORT int criu_local_add_cg_root(criu_opts *opts, const char *ctrl, const char *path)
{
	CgroupRoot *r;
	int ret = -ENOMEM;

	if (!path)
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	cgroup_root__init(r);
	r->path = strdup(path);
	if (ctrl)
		r->ctrl = strdup(ctrl);
	if (r->path && (!ctrl || r->ctrl))
		ret = add_msg(&opts->rpc->n_cg_root, (void ***)&opts->rpc->cg_root, r);
	if (ret) {
		free(r->path);
		free(r->ctrl);
		free(r);
	}
	return ret;
}

CRIU_EXPORT int criu_add_cg_root(const char *ctrl, const char *path)
{
	criu_opts *g = lc_global();

	return g ? criu_local_add_cg_root(g, ctrl, path) : -ENOMEM;
}

CRIU_EXPORT int criu_local_add_inherit_fd(criu_opts *opts, int fd, const char *key)
{
	InheritFd *ifd;
	int ret = -ENOMEM;

	/* criu uses the number as-is: only a swrk child inherits our fds. */
	if (opts->service_comm != CRIU_COMM_BIN || !key)
		return -EINVAL;
	ifd = malloc(sizeof(*ifd));
	if (!ifd)
		return -ENOMEM;
	inherit_fd__init(ifd);
	ifd->fd = fd;
	ifd->key = strdup(key);
	if (ifd->key)
		ret = add_msg(&opts->rpc->n_inherit_fd, (void ***)&opts->rpc->inherit_fd, ifd);
	if (ret) {
		free(ifd->key);
		free(ifd);
	}
	return ret;
}

CRIU_EXPORT int criu_add_inherit_fd(int fd, const char *key)
{
	criu_opts *g = lc_global();

	return g ? criu_local_add_inherit_fd(g, fd, key) : -ENOMEM;
}

CRIU_EXPORT int criu_local_join_ns_add(criu_opts *opts, const char *ns, const char *ns_file, const char *extra_opt)
{
	JoinNamespace *j;
	int ret = -ENOMEM;

	if (!ns || !ns_file)
		return -EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	join_namespace__init(j);
	j->ns = strdup(ns);
	j->ns_file = strdup(ns_file);
	if (extra_opt)
		j->extra_opt = strdup(extra_opt);
	if (j->ns && j->ns_file && (!extra_opt || j->extra_opt))
		ret = add_msg(&opts->rpc->n_join_ns, (void ***)&opts->rpc->join_ns, j);
	if (ret) {
		free(j->ns);
		free(j->ns_file);
		free(j->extra_opt);
		free(j);
	}
	return ret;
}

CRIU_EXPORT int criu_join_ns_add(const char *ns, const char *ns_file, const char *extra_opt)
{
	criu_opts *g = lc_global();

	return g ? criu_local_join_ns_add(g, ns, ns_file, extra_opt) : -ENOMEM;
}

CRIU_EXPORT int criu_local_set_page_server_address_port(criu_opts *opts, const char *address, int port)
{
	CriuPageServerInfo *ps = opts->rpc->ps;
	int ret;

	if (!ps) {
		ps = malloc(sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		criu_page_server_info__init(ps);
		opts->rpc->ps = ps;
	}
	ret = set_str(&ps->address, address);
	if (ret)
		return ret;
	ps->has_port = true;
	ps->port = port;
	return 0;
}

CRIU_EXPORT int criu_set_page_server_address_port(const char *address, int port)
{
	criu_opts *g = lc_global();

	return g ? criu_local_set_page_server_address_port(g, address, port) : -ENOMEM;
}

CRIU_EXPORT int criu_local_set_pre_dump_mode(criu_opts *opts, enum criu_pre_dump_mode mode)
{
	if (mode != CRIU_PRE_DUMP_SPLICE && mode != CRIU_PRE_DUMP_READ)
		return -EINVAL;
	opts->rpc->has_pre_dump_mode = true;
	opts->rpc->pre_dump_mode = (CriuPreDumpMode)mode;
	return 0;
}

CRIU_EXPORT int criu_set_pre_dump_mode(enum criu_pre_dump_mode mode)
{
	criu_opts *g = lc_global();

	return g ? criu_local_set_pre_dump_mode(g, mode) : -ENOMEM;
}

CRIU_EXPORT int criu_local_set_network_lock(criu_opts *opts, enum criu_network_lock_method method)
{
	if (method != CRIU_NETWORK_LOCK_IPTABLES && method != CRIU_NETWORK_LOCK_NFTABLES &&
	    method != CRIU_NETWORK_LOCK_SKIP)
		return -EINVAL;
	opts->rpc->has_network_lock = true;
	opts->rpc->network_lock = (CriuNetworkLockMethod)method;
	return 0;
}

CRIU_EXPORT int criu_set_network_lock(enum criu_network_lock_method method)
{
	criu_opts *g = lc_global();

	return g ? criu_local_set_network_lock(g, method) : -ENOMEM;
}

/* Cgroup options that CRIU offers in the local form only. */

CRIU_EXPORT int criu_local_add_cg_props(criu_opts *opts, const char *stream)
{
	return set_str(&opts->rpc->cgroup_props, stream);
}

CRIU_EXPORT int criu_local_add_cg_props_file(criu_opts *opts, const char *path)
{
	return set_str(&opts->rpc->cgroup_props_file, path);
}

CRIU_EXPORT int criu_local_add_cg_dump_controller(criu_opts *opts, const char *name)
{
	return add_str(&opts->rpc->n_cgroup_dump_controller, &opts->rpc->cgroup_dump_controller, name);
}

CRIU_EXPORT int criu_local_add_cg_yard(criu_opts *opts, const char *path)
{
	return set_str(&opts->rpc->cgroup_yard, path);
}

/* Notifications */

CRIU_EXPORT void criu_local_set_notify_cb(criu_opts *opts, int (*cb)(char *action, criu_notify_arg_t na))
{
	opts->notify = cb;
	opts->rpc->has_notify_scripts = true;
	opts->rpc->notify_scripts = true;
}

CRIU_EXPORT void criu_set_notify_cb(int (*cb)(char *action, criu_notify_arg_t na))
{
	criu_opts *g = lc_global();

	if (g)
		criu_local_set_notify_cb(g, cb);
}

CRIU_EXPORT int criu_notify_pid(criu_notify_arg_t na)
{
	return (na && na->has_pid) ? na->pid : 0;
}

CRIU_EXPORT int criu_get_orphan_pts_master_fd(void)
{
	return lc_orphan_pts_master_fd;
}
