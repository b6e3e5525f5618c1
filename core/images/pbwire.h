/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The protobuf wire format, just enough to handle a message whose schema
 * the core does not know: files.img entries carry a plugin's packed
 * message as one length-delimited field, which the core writes and finds
 * again without unpacking it.
 *
 * Decoding treats its input as untrusted: every length is checked
 * against the buffer, varints longer than 10 bytes or above 64 bits are
 * refused, and nothing here logs or allocates except pbwire_buf.
 */
#ifndef CORE_IMAGES_PBWIRE_H
#define CORE_IMAGES_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

enum pbwire_type {
	PBWIRE_VARINT = 0,
	PBWIRE_I64 = 1,
	PBWIRE_LEN = 2,
	PBWIRE_SGROUP = 3, /* groups are refused: no image uses them */
	PBWIRE_EGROUP = 4,
	PBWIRE_I32 = 5,
};

#define PBWIRE_MAX_FIELD ((1u << 29) - 1)
#define PBWIRE_MAX_VARINT 10

/* A growing output buffer. Start it zeroed; free with pbwire_buf_free(). */
struct pbwire_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void pbwire_buf_free(struct pbwire_buf *b);

/* Append a bare varint. 0 or -ENOMEM. */
int pbwire_append_varint(struct pbwire_buf *b, uint64_t v);
/* Append field FIELDNO as a varint. -EINVAL for a bad field number. */
int pbwire_append_varint_field(struct pbwire_buf *b, uint32_t fieldno, uint64_t v);
/* Append field FIELDNO as length-delimited bytes (a string, bytes or a packed message). */
int pbwire_append_bytes_field(struct pbwire_buf *b, uint32_t fieldno, const void *data, size_t len);

/*
 * Decode a varint at P (LEN bytes available): returns the number of bytes
 * it took (1..10) and sets *V, or -EINVAL if it is truncated or too long.
 */
int pbwire_get_varint(const uint8_t *p, size_t len, uint64_t *v);

/* One decoded field. */
struct pbwire_field {
	uint32_t number;
	enum pbwire_type type;
	uint64_t value;	     /* VARINT, I64, I32 */
	const uint8_t *data; /* LEN: the bytes, inside the input */
	size_t len;
};

/*
 * Decode the field at offset *POS of DATA (LEN bytes) and move *POS past
 * it. Returns 1 and fills *F, 0 at the end, or -EINVAL if it is malformed
 * (bad tag, field number 0, unsupported wire type, truncated).
 */
int pbwire_next_field(const void *data, size_t len, size_t *pos, struct pbwire_field *f);

/*
 * Find length-delimited field FIELDNO in the message DATA (LEN bytes):
 * 0 and *PTR, *PLEN (inside DATA), -ENOENT if absent, -EINVAL if the
 * message is malformed, the field has another wire type, or it occurs
 * more than once.
 */
int pbwire_find_field(const void *data, size_t len, uint32_t fieldno, const void **ptr, size_t *plen);
/* The same for a varint field. */
int pbwire_find_varint(const void *data, size_t len, uint32_t fieldno, uint64_t *v);

#endif /* CORE_IMAGES_PBWIRE_H */
