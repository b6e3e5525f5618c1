// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * files.img entries with an opaque payload; see file-entry.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <criu/log.h>

#include "images/file-entry.h"

#define FE_TYPE 1
#define FE_ID 2

int img_file_entry_build(struct pbwire_buf *out, uint32_t type, uint32_t id, uint32_t payload_field,
			 const void *payload, size_t len)
{
	int ret;

	if (payload_field < IMG_FILE_PAYLOAD_MIN || payload_field > PBWIRE_MAX_FIELD)
		return -EINVAL;
	/* Field order as protobuf-c packs it: by number. */
	ret = pbwire_append_varint_field(out, FE_TYPE, type);
	if (!ret)
		ret = pbwire_append_varint_field(out, FE_ID, id);
	if (!ret)
		ret = pbwire_append_bytes_field(out, payload_field, payload, len);
	return ret;
}

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

int img_file_entry_parse(const void *data, size_t len, struct img_file_entry *fe, const char **why)
{
	bool have_type = false, have_id = false;
	struct pbwire_field f;
	size_t pos = 0;
	int ret;

	memset(fe, 0, sizeof(*fe));
	while ((ret = pbwire_next_field(data, len, &pos, &f)) > 0) {
		switch (f.number) {
		case FE_TYPE:
		case FE_ID:
			if (f.type != PBWIRE_VARINT)
				return bad(why, "type or id is not a varint");
			if (f.value > UINT32_MAX)
				return bad(why, "type or id out of range");
			if (f.number == FE_TYPE) {
				if (have_type)
					return bad(why, "type appears twice");
				fe->type = f.value;
				have_type = true;
			} else {
				if (have_id)
					return bad(why, "id appears twice");
				fe->id = f.value;
				have_id = true;
			}
			break;
		default:
			if (f.type != PBWIRE_LEN)
				return bad(why, "a field other than type and id is not a message");
			if (fe->payload_field)
				return bad(why, "more than one payload field");
			fe->payload_field = f.number;
			fe->payload = f.data;
			fe->payload_len = f.len;
			break;
		}
	}
	if (ret < 0)
		return bad(why, "malformed protobuf");
	if (!have_type || !have_id)
		return bad(why, "type or id missing");
	return 0;
}

int img_write_file_entry(struct image *img, uint32_t type, uint32_t id, uint32_t payload_field, const void *payload,
			 size_t len)
{
	struct pbwire_buf b = { 0 };
	int ret;

	ret = img_file_entry_build(&b, type, id, payload_field, payload, len);
	if (ret == -EINVAL)
		pr_err("%s: entry %lu: bad payload field number %u for file id %u", img_name(img), img_entries(img) + 1,
		       payload_field, id);
	else if (ret)
		pr_err("%s: entry %lu: no memory to pack file id %u", img_name(img), img_entries(img) + 1, id);
	else
		ret = img_write_entry(img, b.data, b.len);
	pbwire_buf_free(&b);
	return ret;
}

int img_read_file_entry(struct image *img, struct img_file_entry *fe, void **buf)
{
	const char *why = NULL;
	size_t len;
	int ret;

	memset(fe, 0, sizeof(*fe));
	ret = img_read_entry(img, buf, &len);
	if (ret <= 0)
		return ret;
	ret = img_file_entry_parse(*buf, len, fe, &why);
	if (ret) {
		pr_err("%s: entry %lu: not a valid file_entry: %s", img_name(img), img_entries(img), why);
		free(*buf);
		*buf = NULL;
		return ret;
	}
	return 1;
}
