/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The image layer: files in the images directory, framed as CRIU frames
 * them, so that CRIU's crit reads what we write and we read what CRIU
 * writes.
 *
 *   normal image    u32 head magic, u32 type magic, entries
 *   inventory.img   u32 INVENTORY_MAGIC, entries
 *   raw image       bytes only (type magic RAW_IMAGE_MAGIC)
 *   entry           u32 size (host order), `size` bytes of protobuf;
 *                   some images put raw bytes after an entry
 *
 * The head magic follows from the type magic (see img_head_magic()).
 *
 * Reading treats the file as input: a short header, a wrong magic, a
 * length past the end of the file or above IMG_MAX_ENTRY, and a protobuf
 * that does not unpack all give a negative errno and one error line that
 * names the file and the entry ("core-1.img: entry 1: ..."). Entries are
 * counted from 1. Nothing here asserts on file contents.
 *
 * I/O is buffered; an image is used by one thread at a time.
 */
#ifndef CORE_IMAGES_IMAGE_H
#define CORE_IMAGES_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "images/magic.h"

/* No entry may be longer than this; a longer length is corruption. */
#define IMG_MAX_ENTRY (64u << 20)

/* ------------------------------------------------------------------ */
/* The images directory                                                 */

/* An open images directory: its fd and its path (for messages). */
struct img_dir;

/*
 * Open directory PATH (relative to ATFD, which may be AT_FDCWD) as an
 * images dir. Returns 0 and sets *OUT, or a negative errno (logged).
 */
int img_dir_open(int atfd, const char *path, struct img_dir **out);
/*
 * Make an images dir of FD, an open directory that it takes over (it is
 * closed by img_dir_close(), also when this fails). LABEL names it in
 * messages (NULL: "fd N").
 */
int img_dir_adopt(int fd, const char *label, struct img_dir **out);
/* Close the directory. NULL is allowed. */
void img_dir_close(struct img_dir *dir);
int img_dir_fd(const struct img_dir *dir);
const char *img_dir_path(const struct img_dir *dir);

/*
 * The directory plugins see through the SDK (cp_images_dir_fd(),
 * cp_image_open_*). The core sets it when an action has opened its images
 * dir and clears it (NULL) before closing that. Not owned.
 */
void img_set_default_dir(struct img_dir *dir);
struct img_dir *img_default_dir(void);

/*
 * FN(ARG, NAME) is told of every image a plugin creates through
 * cp_image_open_write(), so that a failed dump removes those too. NULL
 * stops it. Not owned.
 */
void img_set_plugin_write_note(void (*fn)(void *arg, const char *name), void *arg);
void img_note_plugin_write(const char *name);

/* ------------------------------------------------------------------ */
/* Image files                                                          */

struct image;

/* img_open_read() flags */
#define IMG_MUST_EXIST 0x1 /* a missing file is an error, not an empty image */

/*
 * Create (or truncate) image NAME in DIR for writing, mode 0600, and
 * write its header for type MAGIC. Returns 0 and sets *OUT, or a
 * negative errno (logged).
 */
int img_open_write(const struct img_dir *dir, const char *name, uint32_t magic, struct image **out);
/*
 * Open image NAME in DIR for reading and check its header against type
 * MAGIC. A missing file opens as an empty image (every read sees the end
 * of file at once), as CRIU does, unless FLAGS has IMG_MUST_EXIST.
 */
int img_open_read(const struct img_dir *dir, const char *name, uint32_t magic, unsigned int flags, struct image **out);
/* The same, with the name made by printf(FMT, ...). */
int img_open_writef(const struct img_dir *dir, uint32_t magic, struct image **out, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int img_open_readf(const struct img_dir *dir, uint32_t magic, unsigned int flags, struct image **out, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));

/*
 * Close IMG, writing out what is buffered. Returns 0 or the first error
 * any write to IMG met (then logged already). NULL is allowed.
 */
int img_close(struct image *img);

/* The file name as given to open, and whether the file was missing. */
const char *img_name(const struct image *img);
bool img_is_empty(const struct image *img);
/* Entries read or written so far. */
unsigned long img_entries(const struct image *img);

/*
 * The fd behind IMG, positioned where the next img_* call would read or
 * write (pending writes are flushed, read-ahead is given back), so the
 * caller may use it directly (splice, sendfile, pread) in between.
 * Returns the fd or a negative errno; -ENOENT for an empty image.
 */
int img_fd(struct image *img);

/* ---- writing ---- */

/*
 * Append MSG as one entry. -EINVAL (logged) if a required field of MSG is
 * unset or it packs to more than IMG_MAX_ENTRY bytes.
 */
int img_write_msg(struct image *img, const ProtobufCMessage *msg);
/* Append an already packed entry: the u32 length, then DATA. */
int img_write_entry(struct image *img, const void *data, size_t len);
/* Append raw bytes (a payload after an entry, or a raw image). */
int img_write_raw(struct image *img, const void *buf, size_t len);

/* ---- reading ---- */

/*
 * Read the next entry as a DESC message. Returns 1 and sets *OUT (free
 * with protobuf_c_message_free_unpacked(*OUT, NULL)), 0 at a clean end of
 * file, or a negative errno (logged): -EIO for a truncated file, -EINVAL
 * for a bad length or a message that does not unpack.
 */
int img_read_msg(struct image *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);
/* Read exactly one entry: as img_read_msg(), but the end of file is an error (-EIO). */
int img_read_one(struct image *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);
/*
 * Read the next entry without unpacking it: 1 and *DATA (free() it) and
 * *LEN, 0 at the end of file, or a negative errno (logged).
 */
int img_read_entry(struct image *img, void **data, size_t *len);
/* Read exactly LEN raw bytes; -EIO (logged) if the file ends first. */
int img_read_raw(struct image *img, void *buf, size_t len);
/* Skip LEN raw bytes; -EIO (logged) if the file ends first. */
int img_skip_raw(struct image *img, uint64_t len);

#endif /* CORE_IMAGES_IMAGE_H */
