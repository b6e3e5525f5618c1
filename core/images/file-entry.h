/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * files.img entries with an opaque payload. CRIU's file_entry is
 * {type = 1, id = 2, one kind-specific message}; the core does not know
 * the kinds (plugins do), so it writes and reads the kind's message as
 * the raw bytes of the field whose number the fd kind registered
 * (cp_fd_ops.payload_field), e.g. 3 for reg_file_entry, 18 for pipe_entry.
 * The result is byte-for-byte what protobuf-c would pack for the full
 * file_entry, so crit and CRIU read it.
 */
#ifndef CORE_IMAGES_FILE_ENTRY_H
#define CORE_IMAGES_FILE_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "images/image.h"
#include "images/pbwire.h"

/* The first file_entry field number that can hold a payload. */
#define IMG_FILE_PAYLOAD_MIN 3

struct img_file_entry {
	uint32_t type; /* fd_types */
	uint32_t id;
	uint32_t payload_field; /* 0 if the entry has no payload */
	const void *payload;	/* the packed kind message (points into the entry) */
	size_t payload_len;
};

/*
 * Pack {TYPE, ID, field PAYLOAD_FIELD = PAYLOAD} into OUT (appended).
 * -EINVAL if PAYLOAD_FIELD is below IMG_FILE_PAYLOAD_MIN or too big.
 */
int img_file_entry_build(struct pbwire_buf *out, uint32_t type, uint32_t id, uint32_t payload_field,
			 const void *payload, size_t len);

/*
 * Parse a packed file_entry. Returns 0 and fills FE (pointing into DATA),
 * or -EINVAL with *WHY (if WHY is not NULL) saying what is wrong: type or
 * id missing or out of range, a malformed field, more than one payload.
 */
int img_file_entry_parse(const void *data, size_t len, struct img_file_entry *fe, const char **why);

/* Write one files.img entry (see img_file_entry_build()); errors are logged. */
int img_write_file_entry(struct image *img, uint32_t type, uint32_t id, uint32_t payload_field, const void *payload,
			 size_t len);

/*
 * Read and parse the next files.img entry. Returns 1 with FE filled and
 * *BUF holding the bytes FE points into (free() it when done with FE),
 * 0 at the end of the file, or a negative errno (logged, naming the file
 * and the entry).
 */
int img_read_file_entry(struct image *img, struct img_file_entry *fe, void **buf);

#endif /* CORE_IMAGES_FILE_ENTRY_H */
