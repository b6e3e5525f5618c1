// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Image files: open and check the header, then buffered entries (a u32
 * length and a packed protobuf) and raw bytes. See image.h for the format.
 *
 * Every error on an image is logged once, where it is found, naming the
 * file and the entry, and is then sticky: later calls on the same image
 * return it without logging again, so a caller's loop stops cleanly and
 * img_close() reports the first write error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/log.h>

#include "images/image.h"

#define IMG_BUF_SIZE (64u << 10)

struct img_dir {
	int fd;
	char *path;
};

struct image {
	int fd; /* -1 for an empty (missing) image */
	char *name;
	uint32_t magic;
	bool writing;
	bool resync; /* img_fd() handed out the fd: re-read its offset */
	int error;   /* first error, sticky */
	unsigned long entries;
	uint64_t offset; /* file offset of the next byte we read or write */
	uint64_t size;	 /* file size at open (reading a regular file), else UINT64_MAX */
	/*
	 * Writing: buf[0..len) is pending. Reading: buf[pos..len) is read
	 * ahead and not yet consumed.
	 */
	uint8_t *buf;
	size_t len;
	size_t pos;
};

static struct img_dir *default_dir;

/* ------------------------------------------------------------------ */
/* Directories                                                          */

int img_dir_adopt(int fd, const char *label, struct img_dir **out)
{
	struct img_dir *dir;
	char tmp[32];

	*out = NULL;
	if (fd < 0)
		return -EBADF;
	dir = calloc(1, sizeof(*dir));
	if (!dir)
		goto err_close;
	if (!label) {
		snprintf(tmp, sizeof(tmp), "fd %d", fd);
		label = tmp;
	}
	dir->path = strdup(label);
	if (!dir->path)
		goto err_free;
	dir->fd = fd;
	*out = dir;
	return 0;

err_free:
	free(dir);
err_close:
	close(fd);
	pr_err("No memory for images dir %s", label ? label : "");
	return -ENOMEM;
}

int img_dir_open(int atfd, const char *path, struct img_dir **out)
{
	int fd;

	*out = NULL;
	fd = openat(atfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		pr_perror("Can't open images dir %s", path);
		return -err;
	}
	return img_dir_adopt(fd, path, out);
}

void img_dir_close(struct img_dir *dir)
{
	if (!dir)
		return;
	if (default_dir == dir)
		default_dir = NULL;
	close(dir->fd);
	free(dir->path);
	free(dir);
}

int img_dir_fd(const struct img_dir *dir)
{
	return dir->fd;
}

const char *img_dir_path(const struct img_dir *dir)
{
	return dir->path;
}

void img_set_default_dir(struct img_dir *dir)
{
	default_dir = dir;
}

struct img_dir *img_default_dir(void)
{
	return default_dir;
}

static void (*write_note)(void *arg, const char *name);
static void *write_note_arg;

void img_set_plugin_write_note(void (*fn)(void *arg, const char *name), void *arg)
{
	write_note = fn;
	write_note_arg = arg;
}

void img_note_plugin_write(const char *name)
{
	if (write_note)
		write_note(write_note_arg, name);
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                  */

/* Image names are plain file names inside the images dir. */
static int check_name(const struct img_dir *dir, const char *name)
{
	if (!dir) {
		pr_err("%s: no images dir is open", name ? name : "(null)");
		return -EBADF;
	}
	if (!name || !name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		pr_err("Bad image name \"%s\" in %s", name ? name : "(null)", dir->path);
		return -EINVAL;
	}
	return 0;
}

static struct image *img_alloc(const char *name, uint32_t magic, bool writing)
{
	struct image *img = calloc(1, sizeof(*img));

	if (!img)
		return NULL;
	img->fd = -1;
	img->magic = magic;
	img->writing = writing;
	img->size = UINT64_MAX;
	img->name = strdup(name);
	img->buf = malloc(IMG_BUF_SIZE);
	if (!img->name || !img->buf) {
		free(img->name);
		free(img->buf);
		free(img);
		return NULL;
	}
	return img;
}

static void img_free(struct image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->name);
	free(img->buf);
	free(img);
}

/* Name of a magic for messages: "CORE" or "0x12345678". */
static const char *magic_str(uint32_t magic, char *tmp, size_t size)
{
	const char *name = img_magic_name(magic);

	if (name)
		return name;
	snprintf(tmp, size, "0x%08x", magic);
	return tmp;
}

static int img_fail(struct image *img, int err)
{
	if (!img->error)
		img->error = err;
	return err;
}

static int write_all(struct image *img, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(img->fd, p, len);

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			pr_perror("%s: can't write %zu bytes at offset %llu", img->name, len,
				  (unsigned long long)img->offset);
			return img_fail(img, -err);
		}
		if (n == 0) {
			pr_err("%s: write returned 0 at offset %llu", img->name, (unsigned long long)img->offset);
			return img_fail(img, -EIO);
		}
		p += n;
		len -= n;
		img->offset += n;
	}
	return 0;
}

static int img_flush(struct image *img)
{
	size_t len = img->len;

	if (img->error)
		return img->error;
	img->len = 0;
	return write_all(img, img->buf, len);
}

/* Pick up the fd's offset after the caller used it directly (img_fd()). */
static int img_resync(struct image *img)
{
	off_t off;

	if (!img->resync)
		return 0;
	img->resync = false;
	off = lseek(img->fd, 0, SEEK_CUR);
	if (off < 0) {
		int err = errno;

		pr_perror("%s: can't find the file offset", img->name);
		return img_fail(img, -err);
	}
	img->offset = off;
	return 0;
}

/* Buffer LEN bytes for writing. */
static int img_put(struct image *img, const void *data, size_t len)
{
	int ret;

	if (img->error)
		return img->error;
	ret = img_resync(img);
	if (ret)
		return ret;
	if (len > IMG_BUF_SIZE - img->len) {
		ret = img_flush(img);
		if (ret)
			return ret;
	}
	if (len >= IMG_BUF_SIZE)
		return write_all(img, data, len);
	memcpy(img->buf + img->len, data, len);
	img->len += len;
	return 0;
}

int img_open_write(const struct img_dir *dir, const char *name, uint32_t magic, struct image **out)
{
	uint32_t head = img_head_magic(magic);
	struct image *img;
	int ret;

	*out = NULL;
	ret = check_name(dir, name);
	if (ret)
		return ret;
	img = img_alloc(name, magic, true);
	if (!img) {
		pr_err("%s: no memory to open the image", name);
		return -ENOMEM;
	}
	img->fd = openat(dir->fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (img->fd < 0) {
		ret = -errno;
		pr_perror("Can't create image %s in %s", name, dir->path);
		goto err;
	}
	if (head)
		img_put(img, &head, sizeof(head));
	if (magic != RAW_IMAGE_MAGIC)
		img_put(img, &magic, sizeof(magic));
	*out = img;
	return 0;

err:
	img_free(img);
	return ret;
}

/* Read up to LEN bytes into DST, through the buffer. Sets *GOT; short only at EOF. */
static int img_get(struct image *img, void *dst, size_t len, size_t *got)
{
	uint8_t *p = dst;
	size_t done = 0;

	while (done < len) {
		size_t avail = img->len - img->pos;
		ssize_t n;

		if (avail) {
			size_t k = avail < len - done ? avail : len - done;

			memcpy(p + done, img->buf + img->pos, k);
			img->pos += k;
			done += k;
			img->offset += k;
			continue;
		}
		img->pos = img->len = 0;
		/* Big reads bypass the buffer. */
		if (len - done >= IMG_BUF_SIZE)
			n = read(img->fd, p + done, len - done);
		else
			n = read(img->fd, img->buf, IMG_BUF_SIZE);
		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			pr_perror("%s: can't read at offset %llu", img->name, (unsigned long long)img->offset);
			return img_fail(img, -err);
		}
		if (n == 0)
			break;
		if (len - done >= IMG_BUF_SIZE) {
			done += n;
			img->offset += n;
		} else {
			img->len = n;
		}
	}
	*got = done;
	return 0;
}

static int read_header(struct image *img)
{
	uint32_t head = img_head_magic(img->magic);
	size_t n = (head ? 1 : 0) + (img->magic != RAW_IMAGE_MAGIC ? 1 : 0), got;
	char t1[16], t2[16];
	uint32_t have[2];
	int ret;

	if (!n)
		return 0;

	ret = img_get(img, have, n * sizeof(uint32_t), &got);
	if (ret)
		return ret;
	if (got < n * sizeof(uint32_t)) {
		pr_err("%s: file too short for its header: %zu of %zu bytes", img->name, got, n * sizeof(uint32_t));
		return img_fail(img, -EIO);
	}
	if (head && have[0] != head) {
		pr_err("%s: bad head magic %s, expected %s", img->name, magic_str(have[0], t1, sizeof(t1)),
		       magic_str(head, t2, sizeof(t2)));
		return img_fail(img, -EINVAL);
	}
	if (have[n - 1] != img->magic) {
		pr_err("%s: bad magic %s, expected %s", img->name, magic_str(have[n - 1], t1, sizeof(t1)),
		       magic_str(img->magic, t2, sizeof(t2)));
		return img_fail(img, -EINVAL);
	}
	return 0;
}

int img_open_read(const struct img_dir *dir, const char *name, uint32_t magic, unsigned int flags, struct image **out)
{
	struct image *img;
	struct stat st;
	int ret;

	*out = NULL;
	ret = check_name(dir, name);
	if (ret)
		return ret;
	img = img_alloc(name, magic, false);
	if (!img) {
		pr_err("%s: no memory to open the image", name);
		return -ENOMEM;
	}
	img->fd = openat(dir->fd, name, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT && !(flags & IMG_MUST_EXIST)) {
			pr_debug("%s: not in %s, read as empty", name, dir->path);
			*out = img;
			return 0;
		}
		pr_perror("Can't open image %s in %s", name, dir->path);
		goto err;
	}
	if (fstat(img->fd, &st)) {
		ret = -errno;
		pr_perror("Can't stat image %s", name);
		goto err;
	}
	if (S_ISDIR(st.st_mode)) {
		pr_err("Image %s in %s is a directory", name, dir->path);
		ret = -EISDIR;
		goto err;
	}
	if (S_ISREG(st.st_mode))
		img->size = st.st_size;
	ret = read_header(img);
	if (ret)
		goto err;
	*out = img;
	return 0;

err:
	img_free(img);
	return ret;
}

int img_open_writef(const struct img_dir *dir, uint32_t magic, struct image **out, const char *fmt, ...)
{
	char name[256];
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(name, sizeof(name), fmt, args);
	va_end(args);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		*out = NULL;
		pr_err("Image name too long: %s...", name);
		return -ENAMETOOLONG;
	}
	return img_open_write(dir, name, magic, out);
}

int img_open_readf(const struct img_dir *dir, uint32_t magic, unsigned int flags, struct image **out, const char *fmt,
		   ...)
{
	char name[256];
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(name, sizeof(name), fmt, args);
	va_end(args);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		*out = NULL;
		pr_err("Image name too long: %s...", name);
		return -ENAMETOOLONG;
	}
	return img_open_read(dir, name, magic, flags, out);
}

int img_close(struct image *img)
{
	int ret;

	if (!img)
		return 0;
	ret = img->error;
	if (img->writing && !ret)
		ret = img_flush(img);
	if (img->fd >= 0) {
		/* A delayed write error (NFS, quota) can show up only here. */
		if (close(img->fd) && img->writing && !ret) {
			ret = -errno;
			pr_perror("%s: error on close", img->name);
		}
		img->fd = -1;
	}
	if (!img->writing)
		ret = 0;
	img_free(img);
	return ret;
}

const char *img_name(const struct image *img)
{
	return img->name;
}

bool img_is_empty(const struct image *img)
{
	return img->fd < 0;
}

unsigned long img_entries(const struct image *img)
{
	return img->entries;
}

int img_fd(struct image *img)
{
	int ret;

	if (img->fd < 0)
		return -ENOENT;
	if (img->error)
		return img->error;
	ret = img_resync(img);
	if (ret)
		return ret;
	if (img->writing) {
		ret = img_flush(img);
		if (ret)
			return ret;
	} else if (img->len > img->pos) {
		/* Give the read-ahead back, so the fd is where we are. */
		if (lseek(img->fd, -(off_t)(img->len - img->pos), SEEK_CUR) < 0) {
			ret = -errno;
			pr_perror("%s: can't seek back", img->name);
			return img_fail(img, ret);
		}
	}
	img->pos = img->len = 0;
	img->resync = true;
	return img->fd;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

struct img_pb_buffer {
	ProtobufCBuffer base;
	struct image *img;
};

static void img_pb_append(ProtobufCBuffer *buffer, size_t len, const uint8_t *data)
{
	struct img_pb_buffer *b = (struct img_pb_buffer *)buffer;

	img_put(b->img, data, len);
}

static int check_writable(struct image *img)
{
	if (!img->writing) {
		pr_err("%s: not open for writing", img->name);
		return -EBADF;
	}
	return img->error;
}

int img_write_msg(struct image *img, const ProtobufCMessage *msg)
{
	struct img_pb_buffer b = { .base.append = img_pb_append, .img = img };
	unsigned long entry = img->entries + 1;
	size_t size;
	uint32_t len;
	int ret;

	ret = check_writable(img);
	if (ret)
		return ret;
	/* A message with an unset required field would not read back. */
	if (!protobuf_c_message_check(msg)) {
		pr_err("%s: entry %lu: %s has an unset required field", img->name, entry, msg->descriptor->name);
		return -EINVAL;
	}
	size = protobuf_c_message_get_packed_size(msg);
	if (size > IMG_MAX_ENTRY) {
		pr_err("%s: entry %lu: %s packs to %zu bytes, more than %u", img->name, entry, msg->descriptor->name,
		       size, IMG_MAX_ENTRY);
		return -EINVAL;
	}
	len = size;
	ret = img_put(img, &len, sizeof(len));
	if (ret)
		return ret;
	if (size <= IMG_BUF_SIZE - img->len) {
		/* The common case: pack straight into the buffer. */
		protobuf_c_message_pack(msg, img->buf + img->len);
		img->len += size;
	} else {
		protobuf_c_message_pack_to_buffer(msg, &b.base);
		if (img->error)
			return img->error;
	}
	img->entries++;
	return 0;
}

int img_write_entry(struct image *img, const void *data, size_t len)
{
	uint32_t size = len;
	int ret;

	ret = check_writable(img);
	if (ret)
		return ret;
	if (len > IMG_MAX_ENTRY) {
		pr_err("%s: entry %lu: %zu bytes, more than %u", img->name, img->entries + 1, len, IMG_MAX_ENTRY);
		return -EINVAL;
	}
	ret = img_put(img, &size, sizeof(size));
	if (!ret)
		ret = img_put(img, data, len);
	if (!ret)
		img->entries++;
	return ret;
}

int img_write_raw(struct image *img, const void *buf, size_t len)
{
	int ret = check_writable(img);

	if (ret)
		return ret;
	return img_put(img, buf, len);
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */

static int check_readable(struct image *img)
{
	if (img->writing) {
		pr_err("%s: not open for reading", img->name);
		return -EBADF;
	}
	if (img->error)
		return img->error;
	return img_resync(img);
}

/*
 * Read the next entry's length. 1 and *SIZE, 0 at a clean end of file,
 * or a negative errno (logged).
 */
static int read_entry_size(struct image *img, uint32_t *size)
{
	unsigned long entry = img->entries + 1;
	uint64_t at = img->offset;
	size_t got;
	int ret;

	ret = img_get(img, size, sizeof(*size), &got);
	if (ret)
		return ret;
	if (got == 0)
		return 0;
	if (got < sizeof(*size)) {
		pr_err("%s: entry %lu: truncated length at offset %llu (%zu of 4 bytes)", img->name, entry,
		       (unsigned long long)at, got);
		return img_fail(img, -EIO);
	}
	if (*size > IMG_MAX_ENTRY) {
		pr_err("%s: entry %lu: length %u at offset %llu is more than %u, the image is corrupt", img->name,
		       entry, *size, (unsigned long long)at, IMG_MAX_ENTRY);
		return img_fail(img, -EINVAL);
	}
	if (img->size != UINT64_MAX && *size > img->size - img->offset) {
		pr_err("%s: entry %lu: length %u at offset %llu runs past the end of the file (%llu bytes left)",
		       img->name, entry, *size, (unsigned long long)at, (unsigned long long)(img->size - img->offset));
		return img_fail(img, -EIO);
	}
	return 1;
}

/*
 * Get SIZE bytes of entry body: a pointer into the buffer when they are
 * there already (*COPY = NULL), else a malloc()ed copy in *COPY.
 */
static int read_entry_body(struct image *img, uint32_t size, const uint8_t **data, uint8_t **copy)
{
	unsigned long entry = img->entries + 1;
	size_t got;
	int ret;

	*copy = NULL;
	if (size <= img->len - img->pos) {
		*data = img->buf + img->pos;
		img->pos += size;
		img->offset += size;
		return 0;
	}
	*copy = malloc(size ? size : 1);
	if (!*copy) {
		pr_err("%s: entry %lu: no memory for %u bytes", img->name, entry, size);
		return img_fail(img, -ENOMEM);
	}
	ret = img_get(img, *copy, size, &got);
	if (!ret && got < size) {
		pr_err("%s: entry %lu: truncated: %zu of %u bytes", img->name, entry, got, size);
		ret = img_fail(img, -EIO);
	}
	if (ret) {
		free(*copy);
		*copy = NULL;
		return ret;
	}
	*data = *copy;
	return 0;
}

int img_read_msg(struct image *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	const uint8_t *data;
	uint8_t *copy;
	uint32_t size;
	int ret;

	*out = NULL;
	if (img->fd < 0)
		return 0;
	ret = check_readable(img);
	if (ret)
		return ret;
	ret = read_entry_size(img, &size);
	if (ret <= 0)
		return ret;
	ret = read_entry_body(img, size, &data, &copy);
	if (ret)
		return ret;
	*out = protobuf_c_message_unpack(desc, NULL, size, data);
	free(copy);
	if (!*out) {
		pr_err("%s: entry %lu: %u bytes do not unpack as %s", img->name, img->entries + 1, size, desc->name);
		return img_fail(img, -EINVAL);
	}
	img->entries++;
	return 1;
}

int img_read_one(struct image *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	int ret = img_read_msg(img, desc, out);

	if (ret == 0) {
		if (img->fd < 0)
			pr_err("%s: missing, expected a %s entry", img->name, desc->name);
		else
			pr_err("%s: entry %lu: end of file, expected a %s entry", img->name, img->entries + 1,
			       desc->name);
		return img_fail(img, -EIO);
	}
	return ret < 0 ? ret : 0;
}

int img_read_entry(struct image *img, void **data, size_t *len)
{
	const uint8_t *p;
	uint8_t *copy;
	uint32_t size;
	int ret;

	*data = NULL;
	*len = 0;
	if (img->fd < 0)
		return 0;
	ret = check_readable(img);
	if (ret)
		return ret;
	ret = read_entry_size(img, &size);
	if (ret <= 0)
		return ret;
	ret = read_entry_body(img, size, &p, &copy);
	if (ret)
		return ret;
	if (!copy) {
		copy = malloc(size ? size : 1);
		if (!copy) {
			pr_err("%s: entry %lu: no memory for %u bytes", img->name, img->entries + 1, size);
			return img_fail(img, -ENOMEM);
		}
		memcpy(copy, p, size);
	}
	*data = copy;
	*len = size;
	img->entries++;
	return 1;
}

int img_read_raw(struct image *img, void *buf, size_t len)
{
	size_t got;
	int ret;

	if (!len)
		return 0;
	if (img->fd < 0) {
		pr_err("%s: missing, expected %zu bytes of data", img->name, len);
		return -EIO;
	}
	ret = check_readable(img);
	if (ret)
		return ret;
	ret = img_get(img, buf, len, &got);
	if (ret)
		return ret;
	if (got < len) {
		pr_err("%s: data after entry %lu: truncated: %zu of %zu bytes", img->name, img->entries, got, len);
		return img_fail(img, -EIO);
	}
	return 0;
}

int img_skip_raw(struct image *img, uint64_t len)
{
	uint64_t avail;
	int ret;

	if (!len)
		return 0;
	if (img->fd < 0) {
		pr_err("%s: missing, expected %llu bytes of data", img->name, (unsigned long long)len);
		return -EIO;
	}
	ret = check_readable(img);
	if (ret)
		return ret;
	avail = img->len - img->pos;
	if (len <= avail) {
		img->pos += len;
		img->offset += len;
		return 0;
	}
	if (img->size != UINT64_MAX && len > img->size - img->offset) {
		pr_err("%s: data after entry %lu: %llu bytes to skip, %llu left", img->name, img->entries,
		       (unsigned long long)len, (unsigned long long)(img->size - img->offset));
		return img_fail(img, -EIO);
	}
	if (lseek(img->fd, (off_t)(len - avail), SEEK_CUR) < 0) {
		ret = -errno;
		pr_perror("%s: can't skip %llu bytes", img->name, (unsigned long long)len);
		return img_fail(img, ret);
	}
	img->pos = img->len = 0;
	img->offset += len;
	return 0;
}
