// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The mock core behind mock-sdk.h: the SDK functions a plugin calls,
 * backed by small tables, a log buffer and a scratch images dir.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdinfo.pb-c.h"
#include "mock-sdk.h"
#include "regfile.pb-c.h"
#include "rpc.pb-c.h"

#define MOCK_MAX 32
/* Ids cp_file_dump_as() gives, above those the tests use. */
#define MOCK_EXTRA_ID 1000
#define MOCK_FILES_MAGIC 0x56303138
#define IMG_COMMON_MAGIC 0x54564319

int mock_check_failed;

struct cp_plugin {
	const char *name;
	void *data;
	void (*free_fn)(void *);
	void (*fini)(struct cp_plugin *p);
};

struct cp_payload {
	void *buf;
	size_t len;
};

struct cp_image {
	int fd; /* -1: a missing file, read as empty */
	char name[256];
	unsigned int nr; /* entries read so far */
};

struct mock_kind {
	struct cp_plugin *owner;
	struct cp_fd_ops ops;
};

struct mock_hook {
	struct cp_plugin *owner;
	enum cp_stage stage;
	cp_hook_fn fn;
};

struct mock_kv {
	char *key;
	char *value;
};

static struct {
	struct cp_plugin plugins[4];
	size_t nplugins;
	struct mock_kind kinds[MOCK_MAX];
	size_t nkinds;
	struct mock_hook hooks[MOCK_MAX];
	size_t nhooks;
	struct mock_kv opts[MOCK_MAX], popts[MOCK_MAX];
	size_t nopts, npopts;
	char *log;
	size_t log_len;
	char tmpdir[64];
	char imgdir[80];
	int imgdir_fd;
	struct mock_file extra[MOCK_MAX]; /* written by cp_file_dump_as() */
	size_t nextra;
	uint64_t rpc_sk_ino; /* cp_rpc_service_sk_ino(); 0: not over RPC */
} mk;

/* --- Logging ---------------------------------------------------------- */

static void log_append(const char *s)
{
	size_t n = strlen(s);
	char *t = realloc(mk.log, mk.log_len + n + 1);

	if (!t)
		abort();
	memcpy(t + mk.log_len, s, n + 1);
	mk.log = t;
	mk.log_len += n;
}

static void log_line(enum cp_log_level level, const char *fmt, va_list args, const char *tail)
{
	static const char *const names[] = { "", "Error: ", "Warn: ", "Info: ", "Debug: " };
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, args);
	log_append(level <= CP_LOG_DEBUG ? names[level] : "");
	log_append(buf);
	if (tail) {
		log_append(": ");
		log_append(tail);
	}
	log_append("\n");
	if (getenv("MOCK_VERBOSE"))
		fprintf(stderr, "%s%s%s%s\n", names[level <= CP_LOG_DEBUG ? level : 0], buf, tail ? ": " : "",
			tail ? tail : "");
}

void cp_vlog(enum cp_log_level level, const char *file, int line, const char *fmt, va_list args)
{
	(void)file;
	(void)line;
	log_line(level, fmt, args, NULL);
}

void cp_log(enum cp_log_level level, const char *file, int line, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	cp_vlog(level, file, line, fmt, args);
	va_end(args);
}

void cp_log_errno(int err, const char *file, int line, const char *fmt, ...)
{
	va_list args;

	(void)file;
	(void)line;
	va_start(args, fmt);
	log_line(CP_LOG_ERROR, fmt, args, strerror(err));
	va_end(args);
}

int cp_log_get_level(void)
{
	return CP_LOG_DEBUG;
}

const char *mock_log_text(void)
{
	return mk.log ? mk.log : "";
}

void mock_log_clear(void)
{
	free(mk.log);
	mk.log = NULL;
	mk.log_len = 0;
}

/* --- Plugins, options ------------------------------------------------- */

const char *cp_plugin_name(const struct cp_plugin *p)
{
	return p->name;
}

void cp_plugin_set_data(struct cp_plugin *p, void *data, void (*free_fn)(void *))
{
	if (p->free_fn && p->data != data)
		p->free_fn(p->data);
	p->data = data;
	p->free_fn = free_fn;
}

void *cp_plugin_get_data(const struct cp_plugin *p)
{
	return p->data;
}

struct cp_plugin *mock_plugin_start(const char *name, int (*init)(struct cp_plugin *p))
{
	struct cp_plugin *p;

	if (mk.nplugins == sizeof(mk.plugins) / sizeof(mk.plugins[0]))
		abort();
	p = &mk.plugins[mk.nplugins++];
	memset(p, 0, sizeof(*p));
	p->name = name;
	if (init && init(p)) {
		printf("# init of plugin %s failed; log:\n%s", name, mock_log_text());
		mock_check_failed = 1;
	}
	return p;
}

static void kv_set(struct mock_kv *t, size_t *n, const char *key, const char *value, bool add)
{
	size_t i;

	for (i = 0; !add && i < *n; i++) {
		if (strcmp(t[i].key, key))
			continue;
		free(t[i].value);
		t[i].value = value ? strdup(value) : NULL;
		return;
	}
	if (*n == MOCK_MAX)
		abort();
	t[*n].key = strdup(key);
	t[*n].value = value ? strdup(value) : NULL;
	(*n)++;
}

void mock_set_opt(const char *name, const char *value)
{
	kv_set(mk.opts, &mk.nopts, name, value, false);
}

void mock_add_plugin_opt(const char *key, const char *value)
{
	kv_set(mk.popts, &mk.npopts, key, value, true);
}

static const char *kv_get(const struct mock_kv *t, size_t n, const char *key, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (!strcmp(t[j].key, key) && i-- == 0)
			return t[j].value;
	return NULL;
}

static size_t kv_count(const struct mock_kv *t, size_t n, const char *key)
{
	size_t c = 0;

	for (size_t j = 0; j < n; j++)
		c += !strcmp(t[j].key, key);
	return c;
}

static bool str_true(const char *v)
{
	return v && (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"));
}

int cp_register_option(struct cp_plugin *p, const char *key, enum cp_opt_type type, const char *defval,
		       const char *help)
{
	(void)p;
	(void)type;
	(void)help;
	if (defval && !kv_count(mk.popts, mk.npopts, key))
		kv_set(mk.popts, &mk.npopts, key, defval, true);
	return 0;
}

int cp_plugin_opt_bool(struct cp_plugin *p, const char *key, bool *out)
{
	(void)p;
	*out = str_true(kv_get(mk.popts, mk.npopts, key, 0));
	return 0;
}

int cp_plugin_opt_int(struct cp_plugin *p, const char *key, long long *out)
{
	const char *v = kv_get(mk.popts, mk.npopts, key, 0);

	(void)p;
	*out = v ? strtoll(v, NULL, 0) : 0;
	return 0;
}

int cp_plugin_opt_string(struct cp_plugin *p, const char *key, const char **out)
{
	(void)p;
	*out = kv_get(mk.popts, mk.npopts, key, 0);
	return 0;
}

int cp_plugin_opt_list(struct cp_plugin *p, const char *key, size_t i, const char **out)
{
	size_t n = kv_count(mk.popts, mk.npopts, key);

	(void)p;
	if (!out)
		return (int)n;
	if (i >= n)
		return -ERANGE;
	*out = kv_get(mk.popts, mk.npopts, key, i);
	return 0;
}

/* Unset: -ENOENT, so the caller falls back to the core's default it knows. */
int cp_opt_bool(const char *name, bool *out)
{
	const char *v = kv_get(mk.opts, mk.nopts, name, 0);

	if (!v)
		return -ENOENT;
	*out = str_true(v);
	return 0;
}

int cp_opt_int(const char *name, long long *out)
{
	const char *v = kv_get(mk.opts, mk.nopts, name, 0);

	if (!v)
		return -ENOENT;
	*out = strtoll(v, NULL, 0);
	return 0;
}

int cp_opt_string(const char *name, const char **out)
{
	*out = kv_get(mk.opts, mk.nopts, name, 0);
	return 0;
}

int cp_opt_list(const char *name, size_t i, const char **out)
{
	size_t n = kv_count(mk.opts, mk.nopts, name);

	if (!out)
		return (int)n;
	if (i >= n)
		return -ERANGE;
	*out = kv_get(mk.opts, mk.nopts, name, i);
	return 0;
}

/* --- Registration, hooks ------------------------------------------------ */

int cp_register_fd_kind(struct cp_plugin *p, const struct cp_fd_ops *ops)
{
	if (!ops || ops->size != sizeof(*ops) || !ops->match || !ops->dump || !ops->open || !ops->type ||
	    !ops->payload_field || !ops->name)
		return -EINVAL;
	if (mk.nkinds == MOCK_MAX)
		return -ENOSPC;
	mk.kinds[mk.nkinds].owner = p;
	mk.kinds[mk.nkinds].ops = *ops;
	mk.nkinds++;
	return 0;
}

int cp_register_hook(struct cp_plugin *p, enum cp_stage stage, cp_hook_fn fn)
{
	if (mk.nhooks == MOCK_MAX || stage >= CP_STAGE__MAX || !fn)
		return -EINVAL;
	mk.hooks[mk.nhooks++] = (struct mock_hook){ p, stage, fn };
	return 0;
}

int mock_run_hooks(enum cp_stage stage)
{
	return mock_run_hooks_ret(stage, 0);
}

int mock_run_hooks_ret(enum cp_stage stage, int result)
{
	struct cp_hook_ctx ctx = { .size = sizeof(ctx), .stage = stage, .pid = getpid(), .real_pid = getpid(),
				   .ret = result };

	for (size_t i = 0; i < mk.nhooks; i++) {
		int ret;

		if (mk.hooks[i].stage != stage)
			continue;
		ret = mk.hooks[i].fn(mk.hooks[i].owner, &ctx);
		if (ret && ret != -ENOTSUP)
			return ret;
	}
	return 0;
}

int cp_payload_pack(struct cp_payload *out, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);

	if (out->buf)
		return -EEXIST;
	out->buf = malloc(len ? len : 1);
	if (!out->buf)
		return -ENOMEM;
	out->len = protobuf_c_message_pack(msg, out->buf);
	return out->len == len ? 0 : -EINVAL;
}

/* --- Images -------------------------------------------------------------- */

int cp_register_image(struct cp_plugin *p, const char *name, uint32_t magic)
{
	(void)p;
	(void)magic;
	return name ? 0 : -EINVAL;
}

int cp_images_dir_fd(void)
{
	return mk.imgdir_fd;
}

/* --- RPC (ABI 1.3) ---------------------------------------------------- */

void mock_set_rpc_sk_ino(uint64_t ino)
{
	mk.rpc_sk_ino = ino;
}

int cp_rpc_service_sk_ino(uint64_t *ino)
{
	if (!mk.rpc_sk_ino)
		return -ENOENT;
	*ino = mk.rpc_sk_ino;
	return 0;
}

/* As the core: a packed criu_resp of a DUMP, success, restored. */
int cp_rpc_send_dump_restored(int fd)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuDumpResp dump = CRIU_DUMP_RESP__INIT;
	uint8_t buf[64];
	size_t len;

	resp.type = CRIU_REQ_TYPE__DUMP;
	resp.success = true;
	dump.has_restored = true;
	dump.restored = true;
	resp.dump = &dump;
	len = criu_resp__get_packed_size(&resp);
	if (len > sizeof(buf))
		return -EMSGSIZE;
	criu_resp__pack(&resp, buf);
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static struct cp_image *img_new(const char *name, int fd)
{
	struct cp_image *img = calloc(1, sizeof(*img));

	if (!img) {
		if (fd >= 0)
			close(fd);
		errno = ENOMEM;
		return NULL;
	}
	img->fd = fd;
	snprintf(img->name, sizeof(img->name), "%s", name);
	return img;
}

struct cp_image *cp_image_open_write(struct cp_plugin *p, const char *name, uint32_t magic)
{
	uint32_t head[2] = { IMG_COMMON_MAGIC, magic };
	int fd;

	(void)p;
	fd = openat(mk.imgdir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (magic && write(fd, head, sizeof(head)) != sizeof(head)) {
		close(fd);
		errno = EIO;
		return NULL;
	}
	return img_new(name, fd);
}

struct cp_image *cp_image_open_read(struct cp_plugin *p, const char *name, uint32_t magic)
{
	uint32_t head[2];
	int fd;

	(void)p;
	fd = openat(mk.imgdir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return NULL;
	if (fd >= 0 && magic &&
	    (read(fd, head, sizeof(head)) != sizeof(head) || head[0] != IMG_COMMON_MAGIC || head[1] != magic)) {
		cp_log(CP_LOG_ERROR, __FILE__, __LINE__, "%s: bad magic", name);
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	return img_new(name, fd);
}

static int full_write(int fd, const void *buf, size_t len)
{
	const char *b = buf;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Bytes read, or a negative errno. */
static ssize_t full_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int cp_image_write_msg(struct cp_image *img, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint32_t len32 = (uint32_t)len;
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(msg, buf);
	ret = full_write(img->fd, &len32, sizeof(len32));
	if (!ret)
		ret = full_write(img->fd, buf, len);
	free(buf);
	return ret;
}

int cp_image_write_raw(struct cp_image *img, const void *buf, size_t len)
{
	return full_write(img->fd, buf, len);
}

int cp_image_read_msg(struct cp_image *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	uint32_t len;
	uint8_t *buf;
	ssize_t n;

	if (img->fd < 0)
		return 0;
	n = full_read(img->fd, &len, sizeof(len));
	if (n == 0)
		return 0;
	if (n != sizeof(len))
		return -EIO;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	if (full_read(img->fd, buf, len) != (ssize_t)len) {
		free(buf);
		cp_log(CP_LOG_ERROR, __FILE__, __LINE__, "%s: short entry %u", img->name, img->nr + 1);
		return -EIO;
	}
	*out = protobuf_c_message_unpack(desc, NULL, len, buf);
	free(buf);
	if (!*out) {
		cp_log(CP_LOG_ERROR, __FILE__, __LINE__, "%s: corrupt entry %u", img->name, img->nr + 1);
		return -EINVAL;
	}
	img->nr++;
	return 1;
}

int cp_image_read_raw(struct cp_image *img, void *buf, size_t len)
{
	if (img->fd < 0 || full_read(img->fd, buf, len) != (ssize_t)len) {
		cp_log(CP_LOG_ERROR, __FILE__, __LINE__, "%s: short read of %zu bytes", img->name, len);
		return -EIO;
	}
	return 0;
}

int cp_image_fd(struct cp_image *img)
{
	return img->fd;
}

int cp_image_close(struct cp_image *img)
{
	int ret = 0;

	if (!img)
		return 0;
	if (img->fd >= 0 && close(img->fd))
		ret = -errno;
	free(img);
	return ret;
}

/* --- Services ------------------------------------------------------------ */

ssize_t cp_task_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	(void)pid;
	(void)addr;
	(void)buf;
	(void)len;
	return -ENOSYS;
}

int cp_task_dup_fd(pid_t pid, int target_fd)
{
	int fd;

	if (pid != getpid())
		return -ESRCH;
	fd = fcntl(target_fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

/* --- fds ----------------------------------------------------------------- */

int mock_fd_desc(int fd, struct cp_fd_desc *d)
{
	char path[64], *link, *info;
	const char *s;
	ssize_t n;
	int f;

	memset(d, 0, sizeof(*d));
	d->size = sizeof(*d);
	d->pid = getpid();
	d->fd = fd;
	d->mnt_id = -1;
	link = calloc(1, 4096);
	info = calloc(1, 16384);
	if (!link || !info)
		goto err;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, 4095);
	if (n < 0)
		goto err;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		goto err;
	n = full_read(f, info, 16383);
	close(f);
	if (n < 0)
		goto err;
	if ((s = strstr(info, "pos:")))
		d->pos = strtoull(s + 4, NULL, 10);
	if ((s = strstr(info, "flags:")))
		d->flags = (unsigned int)strtoul(s + 6, NULL, 8);
	if ((s = strstr(info, "mnt_id:")))
		d->mnt_id = atoi(s + 7);
	d->local_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d->local_fd < 0 || fstat(d->local_fd, &d->st))
		goto err;
	d->link = link;
	d->fdinfo = info;
	return 0;
err:
	n = -errno;
	free(link);
	free(info);
	if (d->local_fd > 0)
		close(d->local_fd);
	d->local_fd = -1;
	return n ? (int)n : -EIO;
}

void mock_fd_desc_free(struct cp_fd_desc *d)
{
	free((char *)d->link);
	free((char *)d->fdinfo);
	if (d->local_fd >= 0)
		close(d->local_fd);
	memset(d, 0, sizeof(*d));
	d->local_fd = -1;
}

int mock_dump_fd(const struct cp_fd_desc *d, uint32_t id, struct mock_file *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < mk.nkinds; i++) {
		struct mock_kind *k = &mk.kinds[i];
		struct cp_payload pl = { 0 };
		int ret = k->ops.match(k->owner, d);

		if (ret == -ENOTSUP)
			continue;
		if (ret)
			return ret < 0 ? ret : -EINVAL;
		ret = k->ops.dump(k->owner, d, id, &pl);
		if (!ret && !pl.buf)
			ret = -EINVAL;
		if (ret) {
			free(pl.buf);
			return ret;
		}
		out->id = id;
		out->type = k->ops.type;
		out->field = k->ops.payload_field;
		out->kind = k->ops.name;
		out->payload = pl.buf;
		out->len = pl.len;
		return 0;
	}
	return -ENOTSUP;
}

int mock_dump_own_fd(int fd, uint32_t id, struct mock_file *out)
{
	struct cp_fd_desc d;
	int ret = mock_fd_desc(fd, &d);

	if (ret)
		return ret;
	ret = mock_dump_fd(&d, id, out);
	mock_fd_desc_free(&d);
	return ret;
}

void mock_file_free(struct mock_file *f)
{
	free(f->payload);
	memset(f, 0, sizeof(*f));
}

int mock_open_file(const struct mock_file *f, int target_fd, int *out_fd, const char **kind)
{
	struct cp_file file = {
		.size = sizeof(file),
		.id = f->id,
		.type = f->type,
		.payload = f->payload,
		.payload_len = f->len,
		.pid = getpid(),
		.fd = target_fd,
	};
	int ret = -ENOTSUP;

	*out_fd = -1;
	for (size_t i = 0; i < mk.nkinds && ret == -ENOTSUP; i++) {
		struct mock_kind *k = &mk.kinds[i];

		if (k->ops.type != f->type || k->ops.payload_field != f->field)
			continue;
		ret = k->ops.open(k->owner, &file, out_fd);
		if (kind && ret != -ENOTSUP)
			*kind = k->ops.name;
	}
	if (!ret && *out_fd < 0)
		ret = -EINVAL;
	return ret;
}

/* Append F to files.img as the core would (a regular-file entry only: what plugins read back). */
static int files_img_append(const struct mock_file *f)
{
	FileEntry fe = FILE_ENTRY__INIT;
	uint32_t head[2] = { IMG_COMMON_MAGIC, MOCK_FILES_MAGIC };
	uint8_t *buf;
	uint32_t len;
	bool fresh;
	int fd, ret = 0;

	if (f->type == FD_TYPES__REG) {
		fe.reg = reg_file_entry__unpack(NULL, f->len, f->payload);
		if (!fe.reg)
			return -EINVAL;
	} else if (f->type == FD_TYPES__UNIXSK) {
		fe.usk = unix_sk_entry__unpack(NULL, f->len, f->payload);
		if (!fe.usk)
			return -EINVAL;
	} else {
		return 0;
	}
	fe.id = f->id;
	fe.type = (FdTypes)f->type;
	fresh = faccessat(mk.imgdir_fd, "files.img", F_OK, 0) != 0;
	fd = openat(mk.imgdir_fd, "files.img", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	len = (uint32_t)file_entry__get_packed_size(&fe);
	buf = malloc(len + 4);
	if (fd < 0 || !buf) {
		ret = -EIO;
		goto out;
	}
	memcpy(buf, &len, 4);
	file_entry__pack(&fe, buf + 4);
	if ((fresh && write(fd, head, sizeof(head)) != sizeof(head)) ||
	    write(fd, buf, len + 4) != (ssize_t)(len + 4))
		ret = -EIO;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	if (fe.reg)
		reg_file_entry__free_unpacked(fe.reg, NULL);
	if (fe.usk)
		unix_sk_entry__free_unpacked(fe.usk, NULL);
	return ret;
}

int cp_file_dump_as(struct cp_plugin *p, const struct cp_fd_ops *kind, const struct cp_fd_desc *fd, uint32_t *id)
{
	struct mock_file *f;

	if (mk.nextra == MOCK_MAX)
		return -ENOSPC;
	for (size_t i = 0; i < mk.nkinds; i++) {
		struct mock_kind *k = &mk.kinds[i];
		struct cp_payload pl = { 0 };
		uint32_t type = k->ops.type;
		int ret;

		if (k->owner != p || k->ops.dump != kind->dump)
			continue;
		f = &mk.extra[mk.nextra];
		ret = k->ops.dump(k->owner, fd, MOCK_EXTRA_ID + (uint32_t)mk.nextra, &pl);
		if (!ret && !pl.buf)
			ret = -EINVAL;
		if (ret) {
			free(pl.buf);
			return ret;
		}
		*f = (struct mock_file){ MOCK_EXTRA_ID + (uint32_t)mk.nextra, type, k->ops.payload_field,
					 k->ops.name, pl.buf, pl.len };
		mk.nextra++;
		*id = f->id;
		return files_img_append(f);
	}
	return -EOPNOTSUPP;
}

int cp_file_open_id(uint32_t id, unsigned int flags, int *out_fd)
{
	(void)flags;
	for (size_t i = 0; i < mk.nextra; i++)
		if (mk.extra[i].id == id)
			return mock_open_file(&mk.extra[i], -1, out_fd, NULL);
	return -ENOENT;
}

/* The core saves shmem contents in page images; the mock keeps a plain copy, shmem-SHMID. */
int cp_shmem_dump(int fd, uint64_t shmid, uint64_t size)
{
	char name[64], buf[4096];
	uint64_t off = 0;
	int out, ret = 0;

	snprintf(name, sizeof(name), "shmem-%llu", (unsigned long long)shmid);
	out = openat(mk.imgdir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	while (!ret && off < size) {
		ssize_t n = pread(fd, buf, size - off < sizeof(buf) ? size - off : sizeof(buf), (off_t)off);

		if (n <= 0 || write(out, buf, (size_t)n) != n)
			ret = -EIO;
		off += n > 0 ? (uint64_t)n : 0;
	}
	close(out);
	return ret;
}

int cp_shmem_restore(int fd, uint64_t shmid, uint64_t size)
{
	char name[64], buf[4096];
	uint64_t off = 0;
	int in, ret = 0;

	snprintf(name, sizeof(name), "shmem-%llu", (unsigned long long)shmid);
	in = openat(mk.imgdir_fd, name, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && off < size) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (pwrite(fd, buf, (size_t)n, (off_t)off) != n)
			ret = -EIO;
		off += (uint64_t)n;
	}
	close(in);
	return ret;
}

int mock_post_open_file(const struct mock_file *f, int fd)
{
	struct cp_file file = {
		.size = sizeof(file),
		.id = f->id,
		.type = f->type,
		.payload = f->payload,
		.payload_len = f->len,
		.pid = getpid(),
		.fd = fd,
	};

	for (size_t i = 0; i < mk.nkinds; i++) {
		struct mock_kind *k = &mk.kinds[i];

		if (k->ops.type == f->type && k->ops.payload_field == f->field && k->ops.post_open)
			return k->ops.post_open(k->owner, &file, fd);
	}
	return 0;
}

/* --- Setup and the TAP runner ------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void mock_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	memset(&mk, 0, sizeof(mk));
	snprintf(mk.tmpdir, sizeof(mk.tmpdir), "%s/criu-plugin-test.XXXXXX", tmp && strlen(tmp) < 30 ? tmp : "/tmp");
	if (!mkdtemp(mk.tmpdir)) {
		perror("mkdtemp");
		exit(99);
	}
	snprintf(mk.imgdir, sizeof(mk.imgdir), "%s/img", mk.tmpdir);
	if (mkdir(mk.imgdir, 0700)) {
		perror("mkdir");
		exit(99);
	}
	mk.imgdir_fd = open(mk.imgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mk.imgdir_fd < 0) {
		perror("open images dir");
		exit(99);
	}
}

void mock_teardown(void)
{
	for (size_t i = 0; i < mk.nextra; i++)
		mock_file_free(&mk.extra[i]);
	for (size_t i = mk.nplugins; i-- > 0;) {
		struct cp_plugin *p = &mk.plugins[i];

		if (p->free_fn)
			p->free_fn(p->data);
	}
	for (size_t i = 0; i < mk.nopts; i++) {
		free(mk.opts[i].key);
		free(mk.opts[i].value);
	}
	for (size_t i = 0; i < mk.npopts; i++) {
		free(mk.popts[i].key);
		free(mk.popts[i].value);
	}
	close(mk.imgdir_fd);
	nftw(mk.tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	mock_log_clear();
}

const char *mock_tmpdir(void)
{
	return mk.tmpdir;
}

const char *mock_images_dir(void)
{
	return mk.imgdir;
}
