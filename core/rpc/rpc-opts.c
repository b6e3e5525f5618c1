// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu_opts -> struct options, driven by the option table (rpc_field) and
 * protobuf-c's field descriptors. See rpc-opts.h for the order.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "rpc: "

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/log.h>

#include "dump/pidfd-store.h"
#include "rpc/rpc-opts.h"

/* criu_opts field numbers go up to 71; leave room for growth. */
#define RPC_FIELD_MAX 128

/* criu_opts fields that the table does not list on their own row. */
enum {
	F_IMAGES_DIR_FD = 1,
	F_LOG_LEVEL = 9,
	F_LOG_FILE = 10,
	F_PS = 11,
	F_NOTIFY_SCRIPTS = 12,
	F_PARENT_IMG = 14,
	F_WORK_DIR_FD = 17,
	F_VETHS = 19,
	F_EXEC_CMD = 22,
	F_EXT_MNT = 23,
	F_MANAGE_CGROUPS = 24,
	F_CG_ROOT = 25,
	F_CPU_CAP = 20,
	F_RST_SIBLING = 26,
	F_INHERIT_FD = 27,
	F_AUTO_EXT_MNT = 28,
	F_EXT_UNIX_SK = 4,
	F_UNIX_SK_INO = 33,
	F_MANAGE_CGROUPS_MODE = 34,
	F_EMPTY_NS = 38,
	F_JOIN_NS = 39,
	F_STATUS_FD = 49,
	F_CONFIG_FILE = 51,
	F_PRE_DUMP_MODE = 61,
	F_PIDFD_STORE_SK = 62,
	F_NETWORK_LOCK = 64,
	F_IMAGES_DIR = 68,
	F_LOG_TO_STDERR = 71,
};

static const struct opt_origin rpc_origin = { .kind = OPT_ORIGIN_RPC };

void rpc_req_ctx_init(struct rpc_req_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
}

void rpc_req_ctx_fini(struct rpc_req_ctx *ctx)
{
	for (int i = 0; i < ctx->n_held; i++)
		close(ctx->held[i]);
	ctx->n_held = 0;
}

static const ProtobufCFieldDescriptor *field_desc(int number)
{
	return protobuf_c_message_descriptor_get_field(&criu_opts__descriptor, number);
}

static const void *field_ptr(const CriuOpts *ro, const ProtobufCFieldDescriptor *fd)
{
	return (const char *)ro + fd->offset;
}

static size_t field_count(const CriuOpts *ro, const ProtobufCFieldDescriptor *fd)
{
	return *(const size_t *)((const char *)ro + fd->quantifier_offset);
}

/* Did the client send this field? */
static bool field_present(const CriuOpts *ro, int number)
{
	const ProtobufCFieldDescriptor *fd = field_desc(number);

	if (!fd)
		return false;
	switch (fd->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return true;
	case PROTOBUF_C_LABEL_REPEATED:
		return field_count(ro, fd) > 0;
	default:
		if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE ||
		    fd->type == PROTOBUF_C_TYPE_BYTES)
			return *(void *const *)field_ptr(ro, fd) != NULL;
		if (fd->quantifier_offset)
			return *(const protobuf_c_boolean *)((const char *)ro + fd->quantifier_offset);
		return false;
	}
}

static const char *field_name(int number)
{
	const ProtobufCFieldDescriptor *fd = field_desc(number);

	return fd ? fd->name : "?";
}

/*
 * Options a client without root may not use in service mode: they name
 * host paths, other processes' namespaces, cgroups, or code to run, all
 * of which criu would then touch as root.
 */
static bool field_needs_root(int number)
{
	switch (number) {
	case 13: /* root */
	case 19: /* veths */
	case 22: /* exec_cmd */
	case 23: /* ext_mnt */
	case 25: /* cg_root */
	case 27: /* inherit_fd */
	case 28: /* auto_ext_mnt */
	case 36: /* irmap_scan_paths */
	case 37: /* external */
	case 39: /* join_ns */
	case 42: /* cgroup_props_file */
	case 44: /* freeze_cgroup */
	case 53: /* lsm_profile */
	case 54: /* tls_cacert */
	case 55: /* tls_cacrl */
	case 56: /* tls_cert */
	case 57: /* tls_key */
	case 60: /* cgroup_yard */
	case 63: /* lsm_mount_context */
		return true;
	default:
		return false;
	}
}

/* Options that need criu to have inherited the client's fds. */
static bool field_swrk_only(int number)
{
	return number == F_RST_SIBLING || number == F_INHERIT_FD;
}

static int hold_fd(struct rpc_req_ctx *ctx, int fd)
{
	if (ctx->n_held >= RPC_MAX_HELD_FDS) {
		close(fd);
		pr_err("Too many client fds in one request");
		return -EMFILE;
	}
	ctx->held[ctx->n_held++] = fd;
	return 0;
}

/*
 * A directory the client passed as an fd: open it through /proc and name
 * it. For root we use its real path when that still leads to the same
 * directory (so logs and --show-config read naturally); for other clients
 * always /proc/<criu>/fd/N, which cannot be redirected by renaming.
 */
static int client_dir(const struct rpc_peer *peer, int cfd, struct rpc_req_ctx *ctx, char *path, size_t size)
{
	struct stat a, b;
	char link[64];
	ssize_t n;
	int fd, ret;

	fd = peer_open_fd(peer, cfd, true, O_RDONLY);
	if (fd < 0)
		return fd;
	ret = hold_fd(ctx, fd);
	if (ret)
		return ret;

	snprintf(path, size, "/proc/%d/fd/%d", (int)getpid(), fd);
	if (!peer->privileged)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, size - 1);
	if (n > 0) {
		path[n] = '\0';
		if (path[0] == '/' && !stat(path, &a) && !fstat(fd, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 0;
	}
	snprintf(path, size, "/proc/%d/fd/%d", (int)getpid(), fd);
	return 0;
}

static int conv_images_dir(const struct rpc_peer *peer, const CriuOpts *ro, struct options *o, struct rpc_req_ctx *ctx)
{
	char path[PATH_MAX];
	int ret;

	if (ro->images_dir_fd != -1) {
		ret = client_dir(peer, ro->images_dir_fd, ctx, path, sizeof(path));
		if (ret)
			return ret;
		return opt_set_str(o, OPT_IMAGES_DIR, path, &rpc_origin);
	}
	if (!ro->images_dir)
		return 0;
	if (!peer->privileged) {
		ret = peer_may_use_file(peer, ro->images_dir);
		if (ret)
			return ret;
	}
	return opt_set_str(o, OPT_IMAGES_DIR, ro->images_dir, &rpc_origin);
}

static int conv_work_dir(const struct rpc_peer *peer, const CriuOpts *ro, struct options *o, struct rpc_req_ctx *ctx)
{
	char path[PATH_MAX];
	int ret;

	if (!ro->has_work_dir_fd)
		return 0;
	ret = client_dir(peer, ro->work_dir_fd, ctx, path, sizeof(path));
	if (ret)
		return ret;
	return opt_set_str(o, OPT_WORK_DIR, path, &rpc_origin);
}

/* log_file is a bare name in the work dir; the default is criu.log. */
static int conv_log_file(const CriuOpts *ro, struct options *o)
{
	if (ro->log_file) {
		if (strchr(ro->log_file, '/') || !ro->log_file[0] || !strcmp(ro->log_file, ".") ||
		    !strcmp(ro->log_file, "..")) {
			pr_err("Bad log_file '%s': a bare file name (in the work dir) is needed", ro->log_file);
			return -EINVAL;
		}
		return opt_set_str(o, OPT_LOG_FILE, ro->log_file, &rpc_origin);
	}
	/* log_to_stderr: leave the log where it is (stderr). */
	if (ro->has_log_to_stderr && ro->log_to_stderr)
		return 0;
	/* swrk: a log-file from criu's own config files stays. */
	if (opt_is_set(o, OPT_LOG_FILE))
		return 0;
	return opt_set_str(o, OPT_LOG_FILE, "criu.log", &rpc_origin);
}

/* log_level has a default of 2 in rpc.proto and is always applied. */
static int conv_log_level(const CriuOpts *ro, struct options *o)
{
	return opt_set_int(o, OPT_VERBOSITY, ro->log_level, &rpc_origin);
}

static int conv_ps(const struct rpc_peer *peer, const CriuOpts *ro, struct options *o)
{
	const CriuPageServerInfo *ps = ro->ps;
	int ret = 0;

	if (!ps)
		return 0;
	/* With lazy_pages, ps names the page server to fetch pages from. */
	if (!(ro->has_lazy_pages && ro->lazy_pages))
		ret = opt_set_bool(o, OPT_PAGE_SERVER, true, &rpc_origin);
	if (!ret && ps->address)
		ret = opt_set_str(o, OPT_ADDRESS, ps->address, &rpc_origin);
	if (!ret && ps->has_port && ps->port)
		ret = opt_set_int(o, OPT_PORT, ps->port, &rpc_origin);
	if (!ret && ps->has_fd) {
		if (!peer->swrk) {
			pr_err("ps.fd works in swrk mode only");
			return -EINVAL;
		}
		ret = opt_set_int(o, OPT_PS_SOCKET, ps->fd, &rpc_origin);
	}
	return ret;
}

/* Add one "printf"-built item to a list option. */
static int list_addf(struct options *o, enum opt_id id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int list_addf(struct options *o, enum opt_id id, const char *fmt, ...)
{
	va_list args;
	char *item;
	int ret;

	va_start(args, fmt);
	ret = vasprintf(&item, fmt, args);
	va_end(args);
	if (ret < 0)
		return -ENOMEM;
	ret = opt_list_add(o, id, item, &rpc_origin);
	free(item);
	return ret;
}

/* Structured repeated fields, written as their CLI option would be. */
static int conv_structured(const struct rpc_peer *peer, int number, const CriuOpts *ro, struct options *o)
{
	int ret = 0;
	size_t i;

	switch (number) {
	case F_VETHS:
		for (i = 0; !ret && i < ro->n_veths; i++)
			ret = list_addf(o, OPT_VETH_PAIR, "%s=%s", ro->veths[i]->if_in, ro->veths[i]->if_out);
		break;
	case F_EXT_MNT:
		for (i = 0; !ret && i < ro->n_ext_mnt; i++)
			ret = list_addf(o, OPT_EXT_MOUNT_MAP, "%s:%s", ro->ext_mnt[i]->key, ro->ext_mnt[i]->val);
		if (!ret && ro->has_auto_ext_mnt && ro->auto_ext_mnt) {
			if (!peer->privileged) {
				pr_err("Option auto_ext_mnt (criu_opts field %d) needs root", F_AUTO_EXT_MNT);
				return -EPERM;
			}
			ret = opt_list_add(o, OPT_EXT_MOUNT_MAP, "auto", &rpc_origin);
		}
		break;
	case F_CG_ROOT:
		for (i = 0; !ret && i < ro->n_cg_root; i++) {
			const CgroupRoot *r = ro->cg_root[i];

			if (r->ctrl)
				ret = list_addf(o, OPT_CGROUP_ROOT, "%s:%s", r->ctrl, r->path);
			else
				ret = opt_list_add(o, OPT_CGROUP_ROOT, r->path, &rpc_origin);
		}
		break;
	case F_INHERIT_FD:
		for (i = 0; !ret && i < ro->n_inherit_fd; i++)
			ret = list_addf(o, OPT_INHERIT_FD, "fd[%d]:%s", ro->inherit_fd[i]->fd, ro->inherit_fd[i]->key);
		break;
	case F_JOIN_NS:
		for (i = 0; !ret && i < ro->n_join_ns; i++) {
			const JoinNamespace *j = ro->join_ns[i];

			if (j->extra_opt)
				ret = list_addf(o, OPT_JOIN_NS, "%s:%s,%s", j->ns, j->ns_file, j->extra_opt);
			else
				ret = list_addf(o, OPT_JOIN_NS, "%s:%s", j->ns, j->ns_file);
		}
		break;
	case F_EXT_UNIX_SK:
		/* The inodes (33) count only when the flag (4) is set. */
		if (!ro->has_ext_unix_sk || !ro->ext_unix_sk)
			break;
		if (!ro->n_unix_sk_ino) {
			ret = opt_set_text(o, OPT_EXT_UNIX_SK, NULL, &rpc_origin);
			break;
		}
		for (i = 0; !ret && i < ro->n_unix_sk_ino; i++)
			ret = list_addf(o, OPT_EXT_UNIX_SK, "%u", ro->unix_sk_ino[i]->inode);
		break;
	}
	return ret;
}

/* Enums whose RPC numbers are not the table's indexes, and empty_ns. */
static int conv_enum(int number, const CriuOpts *ro, struct options *o)
{
	switch (number) {
	case F_MANAGE_CGROUPS_MODE:
		/* The mode (34) overrides the older boolean (24): true = soft. */
		if (ro->has_manage_cgroups_mode) {
			if (ro->manage_cgroups_mode == CRIU_CG_MODE__DEFAULT)
				return opt_set_int(o, OPT_MANAGE_CGROUPS, CRIU_CG_MODE__SOFT, &rpc_origin);
			return opt_set_int(o, OPT_MANAGE_CGROUPS, ro->manage_cgroups_mode, &rpc_origin);
		}
		if (ro->has_manage_cgroups)
			return opt_set_int(o, OPT_MANAGE_CGROUPS,
					   ro->manage_cgroups ? CRIU_CG_MODE__SOFT : CRIU_CG_MODE__IGNORE, &rpc_origin);
		return 0;
	case F_PRE_DUMP_MODE:
		if (!ro->has_pre_dump_mode)
			return 0;
		return opt_set_int(o, OPT_PRE_DUMP_MODE, (long long)ro->pre_dump_mode - 1, &rpc_origin);
	case F_NETWORK_LOCK:
		if (!ro->has_network_lock)
			return 0;
		return opt_set_int(o, OPT_NETWORK_LOCK, (long long)ro->network_lock - 1, &rpc_origin);
	case F_EMPTY_NS:
		if (!ro->has_empty_ns || !ro->empty_ns)
			return 0;
		if (ro->empty_ns != CLONE_NEWNET) {
			pr_err("empty_ns %#x: only CLONE_NEWNET (%#x) is supported", ro->empty_ns, CLONE_NEWNET);
			return -EINVAL;
		}
		return opt_set_str(o, OPT_EMPTY_NS, "net", &rpc_origin);
	}
	return 0;
}

/* A plain value: the descriptor says how to read it. */
static int conv_generic(const struct opt_desc *d, int number, const CriuOpts *ro, struct options *o)
{
	const ProtobufCFieldDescriptor *fd = field_desc(number);
	const void *p;
	int ret = 0;

	if (!fd) {
		pr_err("Option %s names criu_opts field %d, which rpc.proto does not have", d->name, number);
		return -EINVAL;
	}
	p = field_ptr(ro, fd);
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		char *const *items = *(char *const *const *)p;

		if (fd->type != PROTOBUF_C_TYPE_STRING)
			goto unsupported;
		for (size_t i = 0; !ret && i < field_count(ro, fd); i++)
			ret = opt_list_add(o, d->id, items[i], &rpc_origin);
		return ret;
	}

	switch (fd->type) {
	case PROTOBUF_C_TYPE_BOOL:
		return opt_set_bool(o, d->id, *(const protobuf_c_boolean *)p, &rpc_origin);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return opt_set_int(o, d->id, *(const int32_t *)p, &rpc_origin);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return opt_set_int(o, d->id, *(const uint32_t *)p, &rpc_origin);
	case PROTOBUF_C_TYPE_STRING:
		if (d->type == OT_LIST)
			return opt_list_add(o, d->id, *(char *const *)p, &rpc_origin);
		return opt_set_str(o, d->id, *(char *const *)p, &rpc_origin);
	default:
		break;
	}
unsupported:
	pr_err("No converter for criu_opts field %s (%d)", fd->name, number);
	return -EINVAL;
}

/*
 * parent_img (relative to the images dir, usually "../PREV"): criu reads
 * the parent's pages as root, so a client without root may only name a
 * directory of its own.
 */
static int check_parent_img(const struct rpc_peer *peer, const char *parent, const struct options *o)
{
	const char *images = opt_str(o, OPT_IMAGES_DIR);
	char path[PATH_MAX];
	struct stat st;

	if (parent[0] == '/' || !images)
		snprintf(path, sizeof(path), "%s", parent);
	else
		snprintf(path, sizeof(path), "%s/%s", images, parent);
	/* A parent that does not exist (yet) is the dump's business. */
	if (stat(path, &st) < 0)
		return 0;
	if (st.st_uid != peer->uid) {
		pr_err("parent_img '%s' is not a directory of client uid %u", parent, (unsigned)peer->uid);
		return -EPERM;
	}
	return 0;
}

/* One criu_opts field (and its partners) into O. */
static int conv_field(const struct rpc_peer *peer, const struct opt_desc *d, int number, const CriuOpts *ro,
		      struct options *o, struct rpc_req_ctx *ctx)
{
	switch (number) {
	case F_IMAGES_DIR:
	case F_IMAGES_DIR_FD:
		return conv_images_dir(peer, ro, o, ctx);
	case F_WORK_DIR_FD:
		return conv_work_dir(peer, ro, o, ctx);
	case F_LOG_FILE:
		return conv_log_file(ro, o);
	case F_LOG_LEVEL:
		return conv_log_level(ro, o);
	case F_PS:
		return conv_ps(peer, ro, o);
	case F_NOTIFY_SCRIPTS:
		/* Not --action-script: notifications go to the client (notify.h). */
		ctx->notify_scripts = ro->has_notify_scripts && ro->notify_scripts;
		return 0;
	case F_CONFIG_FILE:
		return 0; /* read last, see rpc_opts_build() */
	case F_VETHS:
	case F_EXT_MNT:
	case F_CG_ROOT:
	case F_INHERIT_FD:
	case F_JOIN_NS:
	case F_EXT_UNIX_SK:
		return conv_structured(peer, number, ro, o);
	case F_MANAGE_CGROUPS_MODE:
	case F_PRE_DUMP_MODE:
	case F_NETWORK_LOCK:
	case F_EMPTY_NS:
		return conv_enum(number, ro, o);
	case F_CPU_CAP:
		/*
		 * CRIU's mask also has IMAGE (8), which it always adds, and
		 * clients send 0xffffffff for "everything": keep the bits the
		 * option knows.
		 */
		if (!ro->has_cpu_cap)
			return 0;
		return opt_set_int(o, OPT_CPU_CAP, ro->cpu_cap & OPT_CPU_CAP_ALL, &rpc_origin);
	case F_STATUS_FD:
		if (ro->has_status_fd) {
			int fd = peer_open_fd(peer, ro->status_fd, false, O_WRONLY);
			int ret;

			if (fd < 0)
				return fd;
			pr_warn("status_fd is obsolete: use the status-ready notification");
			ret = hold_fd(ctx, fd);
			return ret ? ret : opt_set_int(o, OPT_STATUS_FD, fd, &rpc_origin);
		}
		return 0;
	case F_PARENT_IMG:
		if (ro->parent_img && !peer->privileged) {
			int ret = check_parent_img(peer, ro->parent_img, o);

			if (ret)
				return ret;
		}
		break;
	}
	if (!field_present(ro, number))
		return 0;
	return conv_generic(d, number, ro, o);
}

/* Refuse what this client may not ask for; returns 0 or -EPERM/-EINVAL. */
static int check_field_allowed(const struct rpc_peer *peer, int number, const CriuOpts *ro)
{
	if (!field_present(ro, number))
		return 0;
	if (number == F_IMAGES_DIR_FD && ro->images_dir_fd == -1)
		return 0;
	if (field_swrk_only(number) && !peer->swrk) {
		pr_err("Option %s (criu_opts field %d) works in swrk mode only", field_name(number), number);
		return -EINVAL;
	}
	if (!peer->privileged && field_needs_root(number)) {
		pr_err("Client uid %u may not use option %s (criu_opts field %d): it needs root", (unsigned)peer->uid,
		       field_name(number), number);
		return -EPERM;
	}
	return 0;
}

static int load_config_file(const struct rpc_peer *peer, const CriuOpts *ro, struct options *o)
{
	int ret;

	if (!ro->config_file)
		return 0;
	ret = peer_may_use_file(peer, ro->config_file);
	if (ret)
		return ret;
	ret = opts_load_file(o, ro->config_file);
	if (ret == -ENOENT)
		pr_err("Config file %s (criu_opts config_file) does not exist", ro->config_file);
	return ret;
}

int rpc_opts_build(const struct rpc_peer *peer, const CriuOpts *ro, const struct options *base, enum action act,
		   bool need_images, struct rpc_req_ctx *ctx, struct options **out)
{
	bool done[RPC_FIELD_MAX] = { false };
	struct options *o;
	int ret = -ENOMEM;

	o = opts_new();
	if (!o)
		goto err;
	opts_set_action(o, act);
	if (base) {
		ret = rpc_opts_inherit(o, base);
		if (ret)
			goto err_opts;
	}

	if (ro) {
		/* Fields the table has no row for, checked and read with a partner. */
		static const int partners[] = { F_IMAGES_DIR_FD, F_MANAGE_CGROUPS, F_AUTO_EXT_MNT, F_UNIX_SK_INO,
						F_LOG_TO_STDERR };

		for (size_t i = 0; i < sizeof(partners) / sizeof(partners[0]); i++) {
			ret = check_field_allowed(peer, partners[i], ro);
			if (ret)
				goto err_opts;
		}
		for (int id = 0; id < OPT__COUNT; id++) {
			const struct opt_desc *d = opt_desc_get(id);
			int number = d->rpc_field;

			if (number <= 0 || number >= RPC_FIELD_MAX || done[number])
				continue;
			done[number] = true;
			ret = check_field_allowed(peer, number, ro);
			if (!ret)
				ret = conv_field(peer, d, number, ro, o, ctx);
			if (ret)
				goto err_opts;
		}
		if (ro->has_pidfd_store_sk) {
			ret = pidfd_store_attach(peer->pid, ro->pidfd_store_sk);
			if (ret)
				goto err_opts;
		}
		ctx->has_pid = ro->has_pid;

		ret = load_config_file(peer, ro, o);
		if (ret)
			goto err_opts;
	}

	if (need_images && opt_origin_get(o, OPT_IMAGES_DIR)->kind == OPT_ORIGIN_DEFAULT) {
		pr_err("Neither images_dir_fd nor images_dir was passed by the RPC client");
		ret = -EINVAL;
		goto err_opts;
	}
	*out = o;
	return 0;

err_opts:
	opts_free(o);
err:
	if (ret == -ENOMEM)
		pr_err("Out of memory building the request's options");
	return ret;
}

/* Copy one option's value from SRC to DST (lists: every item). */
static int inherit_one(struct options *dst, const struct options *src, const struct opt_desc *d)
{
	const struct opt_origin *org = opt_origin_get(src, d->id);
	int ret = 0;

	switch (d->type) {
	case OT_FLAG:
	case OT_BOOL:
		return opt_set_bool(dst, d->id, opt_bool(src, d->id), org);
	case OT_INT:
	case OT_UINT:
	case OT_SIZE:
	case OT_COUNTER:
	case OT_CPUCAP:
		return opt_set_int(dst, d->id, opt_int(src, d->id), org);
	case OT_STR:
	case OT_ENUM:
		return opt_set_str(dst, d->id, opt_str(src, d->id), org);
	case OT_LIST:
	case OT_OPTLIST:
	case OT_ARGV:
		if (!opt_list_len(src, d->id) && d->type == OT_OPTLIST)
			return opt_set_text(dst, d->id, NULL, org);
		for (size_t i = 0; !ret && i < opt_list_len(src, d->id); i++)
			ret = opt_list_add(dst, d->id, opt_list_at(src, d->id, i), opt_list_origin(src, d->id, i));
		return ret;
	}
	return 0;
}

int rpc_opts_inherit(struct options *dst, const struct options *src)
{
	for (int id = 0; id < OPT__COUNT; id++) {
		const struct opt_desc *d = opt_desc_get(id);
		int ret;

		if (!opt_is_set(src, id) || (d->flags & (OF_CLI | OF_DEPRECATED)))
			continue;
		ret = inherit_one(dst, src, d);
		if (ret)
			return ret;
	}
	return 0;
}
