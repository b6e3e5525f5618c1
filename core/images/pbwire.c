// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Protobuf wire helpers; see pbwire.h. No logging: callers know which
 * file and entry the bytes came from and report that.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "images/pbwire.h"

void pbwire_buf_free(struct pbwire_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int buf_reserve(struct pbwire_buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (more <= b->cap - b->len)
		return 0;
	if (more > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	cap = b->cap ? b->cap : 64;
	while (cap - b->len < more)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int pbwire_append_varint(struct pbwire_buf *b, uint64_t v)
{
	int ret = buf_reserve(b, PBWIRE_MAX_VARINT);

	if (ret)
		return ret;
	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		if (v)
			byte |= 0x80;
		b->data[b->len++] = byte;
	} while (v);
	return 0;
}

static int append_tag(struct pbwire_buf *b, uint32_t fieldno, enum pbwire_type type)
{
	if (fieldno == 0 || fieldno > PBWIRE_MAX_FIELD)
		return -EINVAL;
	return pbwire_append_varint(b, ((uint64_t)fieldno << 3) | type);
}

int pbwire_append_varint_field(struct pbwire_buf *b, uint32_t fieldno, uint64_t v)
{
	int ret = append_tag(b, fieldno, PBWIRE_VARINT);

	return ret ? ret : pbwire_append_varint(b, v);
}

int pbwire_append_bytes_field(struct pbwire_buf *b, uint32_t fieldno, const void *data, size_t len)
{
	int ret = append_tag(b, fieldno, PBWIRE_LEN);

	if (!ret)
		ret = pbwire_append_varint(b, len);
	if (!ret)
		ret = buf_reserve(b, len);
	if (ret)
		return ret;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int pbwire_get_varint(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len && i < PBWIRE_MAX_VARINT; i++) {
		uint64_t bits = p[i] & 0x7f;

		/* The 10th byte holds bit 63 only. */
		if (i == PBWIRE_MAX_VARINT - 1 && p[i] > 1)
			return -EINVAL;
		r |= bits << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return -EINVAL;
}

int pbwire_next_field(const void *data, size_t len, size_t *pos, struct pbwire_field *f)
{
	const uint8_t *p = data;
	uint64_t tag, v;
	int n;

	if (*pos >= len)
		return 0;
	n = pbwire_get_varint(p + *pos, len - *pos, &tag);
	if (n < 0)
		return n;
	if ((tag >> 3) == 0 || (tag >> 3) > PBWIRE_MAX_FIELD)
		return -EINVAL;
	*pos += n;
	memset(f, 0, sizeof(*f));
	f->number = tag >> 3;
	f->type = tag & 7;

	switch (f->type) {
	case PBWIRE_VARINT:
		n = pbwire_get_varint(p + *pos, len - *pos, &f->value);
		if (n < 0)
			return n;
		*pos += n;
		return 1;
	case PBWIRE_I64:
	case PBWIRE_I32:
		n = f->type == PBWIRE_I64 ? 8 : 4;
		if (len - *pos < (size_t)n)
			return -EINVAL;
		/* Fixed-width values are little-endian on the wire. */
		while (n--)
			f->value = (f->value << 8) | p[*pos + n];
		*pos += f->type == PBWIRE_I64 ? 8 : 4;
		return 1;
	case PBWIRE_LEN:
		n = pbwire_get_varint(p + *pos, len - *pos, &v);
		if (n < 0)
			return n;
		*pos += n;
		if (v > len - *pos)
			return -EINVAL;
		f->data = p + *pos;
		f->len = v;
		*pos += v;
		return 1;
	default:
		return -EINVAL;
	}
}

/* Find the only occurrence of FIELDNO with wire type TYPE. */
static int find(const void *data, size_t len, uint32_t fieldno, enum pbwire_type type, struct pbwire_field *out)
{
	struct pbwire_field f;
	bool found = false;
	size_t pos = 0;
	int ret;

	while ((ret = pbwire_next_field(data, len, &pos, &f)) > 0) {
		if (f.number != fieldno)
			continue;
		if (f.type != type || found)
			return -EINVAL;
		*out = f;
		found = true;
	}
	if (ret < 0)
		return ret;
	return found ? 0 : -ENOENT;
}

int pbwire_find_field(const void *data, size_t len, uint32_t fieldno, const void **ptr, size_t *plen)
{
	struct pbwire_field f;
	int ret = find(data, len, fieldno, PBWIRE_LEN, &f);

	if (ret)
		return ret;
	*ptr = f.data;
	*plen = f.len;
	return 0;
}

int pbwire_find_varint(const void *data, size_t len, uint32_t fieldno, uint64_t *v)
{
	struct pbwire_field f;
	int ret = find(data, len, fieldno, PBWIRE_VARINT, &f);

	if (ret)
		return ret;
	*v = f.value;
	return 0;
}
