// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The protobuf wire helpers and opaque files.img entries: varints
 * (including malformed ones), finding fields, byte-for-byte agreement
 * with protobuf-c for file_entry, and random input that must never
 * crash the decoder.
 */
#include "images-tap.h"

#include <errno.h>
#include <stdint.h>

#include "images/file-entry.h"
#include "images/image.h"
#include "images/pbwire.h"

#include "fdinfo.pb-c.h"
#include "pipe.pb-c.h"
#include "regfile.pb-c.h"

static void test_varints(void)
{
	static const uint64_t vals[] = {
		0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, (uint64_t)1 << 35, UINT64_MAX - 1, UINT64_MAX
	};
	static const int sizes[] = { 1, 1, 1, 2, 2, 2, 3, 5, 6, 10, 10 };
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct pbwire_buf b = { 0 };
		uint64_t v = 0;
		int n;

		if (pbwire_append_varint(&b, vals[i])) {
			ok = false;
			continue;
		}
		n = pbwire_get_varint(b.data, b.len, &v);
		if (n != sizes[i] || (size_t)n != b.len || v != vals[i]) {
			tap_diag("varint %llu: size %d/%zu, got %llu", (unsigned long long)vals[i], n, b.len,
				 (unsigned long long)v);
			ok = false;
		}
		pbwire_buf_free(&b);
	}
	tap_ok(ok, "varints round-trip with the right sizes, up to UINT64_MAX");

	{
		uint8_t eleven[11], ten_bad[10], trunc[3] = { 0x80, 0x80, 0x80 };
		uint64_t v;

		memset(eleven, 0x80, sizeof(eleven));
		eleven[10] = 0;
		memset(ten_bad, 0xff, sizeof(ten_bad));
		ten_bad[9] = 0x02; /* bit 64: does not fit */
		tap_ok(pbwire_get_varint(eleven, sizeof(eleven), &v) == -EINVAL, "an 11-byte varint is refused");
		tap_ok(pbwire_get_varint(ten_bad, sizeof(ten_bad), &v) == -EINVAL, "a varint above 64 bits is refused");
		tap_ok(pbwire_get_varint(trunc, sizeof(trunc), &v) == -EINVAL, "a truncated varint is refused");
		tap_ok(pbwire_get_varint(trunc, 0, &v) == -EINVAL, "an empty buffer is refused");
	}
}

static void test_fields(void)
{
	struct pbwire_buf b = { 0 };
	const void *p;
	uint64_t v;
	size_t len;

	tap_ok(!pbwire_append_varint_field(&b, 1, 42) && !pbwire_append_bytes_field(&b, 7, "hello", 5) &&
		       !pbwire_append_varint_field(&b, PBWIRE_MAX_FIELD, 9) &&
		       !pbwire_append_bytes_field(&b, 8, NULL, 0),
	       "append varint and bytes fields");
	tap_ok(pbwire_append_varint_field(&b, 0, 1) == -EINVAL &&
		       pbwire_append_bytes_field(&b, PBWIRE_MAX_FIELD + 1, "x", 1) == -EINVAL,
	       "field numbers 0 and 2^29 are refused");
	tap_ok(!pbwire_find_field(b.data, b.len, 7, &p, &len) && len == 5 && !memcmp(p, "hello", 5),
	       "find a bytes field");
	tap_ok(!pbwire_find_field(b.data, b.len, 8, &p, &len) && len == 0, "find an empty bytes field");
	tap_ok(!pbwire_find_varint(b.data, b.len, 1, &v) && v == 42, "find a varint field");
	tap_ok(!pbwire_find_varint(b.data, b.len, PBWIRE_MAX_FIELD, &v) && v == 9, "find the highest field number");
	tap_ok(pbwire_find_field(b.data, b.len, 3, &p, &len) == -ENOENT, "an absent field: -ENOENT");
	tap_ok(pbwire_find_field(b.data, b.len, 1, &p, &len) == -EINVAL, "a field of another wire type: -EINVAL");
	pbwire_append_bytes_field(&b, 7, "again", 5);
	tap_ok(pbwire_find_field(b.data, b.len, 7, &p, &len) == -EINVAL, "a field that occurs twice: -EINVAL");
	pbwire_buf_free(&b);

	{
		/* fixed32 (5), fixed64 (1) are skipped; the field after them is found. */
		static const uint8_t m[] = { 0x0d, 1, 2, 3, 4, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x01, 'z' };
		struct pbwire_field f;
		size_t pos = 0;

		tap_ok(!pbwire_find_field(m, sizeof(m), 3, &p, &len) && len == 1 && *(const char *)p == 'z',
		       "fixed32 and fixed64 fields are skipped");
		tap_ok(pbwire_next_field(m, sizeof(m), &pos, &f) == 1 && f.type == PBWIRE_I32 && f.value == 0x04030201,
		       "fixed32 decodes little-endian");
		tap_ok(pbwire_next_field(m, sizeof(m), &pos, &f) == 1 && f.type == PBWIRE_I64 &&
			       f.value == 0x0807060504030201ull,
		       "fixed64 decodes little-endian");
	}
	{
		static const uint8_t past[] = { 0x12, 0x05, 'a', 'b' }; /* length past the end */
		static const uint8_t tag0[] = { 0x02, 0x00 };		/* field number 0 */
		static const uint8_t group[] = { 0x0b, 0x0c };		/* start/end group */
		static const uint8_t wt7[] = { 0x0f, 0x00 };		/* wire type 7 */
		static const uint8_t badlen[] = {
			0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
		}; /* length 2^64-1 */
		static const uint8_t trunc32[] = { 0x0d, 1, 2 };
		static const uint8_t badtag[] = { 0x80, 0x80 };

		tap_ok(pbwire_find_field(past, sizeof(past), 2, &p, &len) == -EINVAL, "a length past the end: -EINVAL");
		tap_ok(pbwire_find_field(tag0, sizeof(tag0), 1, &p, &len) == -EINVAL, "field number 0: -EINVAL");
		tap_ok(pbwire_find_field(group, sizeof(group), 1, &p, &len) == -EINVAL, "groups: -EINVAL");
		tap_ok(pbwire_find_field(wt7, sizeof(wt7), 1, &p, &len) == -EINVAL, "wire type 7: -EINVAL");
		tap_ok(pbwire_find_field(badlen, sizeof(badlen), 2, &p, &len) == -EINVAL, "a 64-bit length: -EINVAL");
		tap_ok(pbwire_find_field(trunc32, sizeof(trunc32), 1, &p, &len) == -EINVAL,
		       "a truncated fixed32: -EINVAL");
		tap_ok(pbwire_find_field(badtag, sizeof(badtag), 1, &p, &len) == -EINVAL, "a truncated tag: -EINVAL");
		tap_ok(pbwire_find_field(NULL, 0, 1, &p, &len) == -ENOENT, "an empty message has no fields");
	}
}

/* A reg_file_entry packed by protobuf-c, as a plugin would hand it over. */
static uint8_t *pack_reg(size_t *len)
{
	FownEntry fown = FOWN_ENTRY__INIT;
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	uint8_t *buf;

	reg.id = 5;
	reg.flags = 02;
	reg.pos = 1234;
	reg.fown = &fown;
	reg.name = "/etc/hostname";
	reg.has_size = true;
	reg.size = 77;
	*len = reg_file_entry__get_packed_size(&reg);
	buf = malloc(*len);
	reg_file_entry__pack(&reg, buf);
	return buf;
}

static void test_file_entry(void)
{
	struct pbwire_buf b = { 0 };
	struct img_file_entry fe;
	const char *why = NULL;
	size_t rlen, flen;
	uint8_t *reg, *full;
	FileEntry *fentry;

	reg = pack_reg(&rlen);

	/* What protobuf-c packs for the whole file_entry... */
	{
		FileEntry f = FILE_ENTRY__INIT;
		RegFileEntry *r = reg_file_entry__unpack(NULL, rlen, reg);

		f.type = FD_TYPES__REG;
		f.id = 5;
		f.reg = r;
		flen = file_entry__get_packed_size(&f);
		full = malloc(flen);
		file_entry__pack(&f, full);
		reg_file_entry__free_unpacked(r, NULL);
	}
	/* ...and what the core builds from the opaque payload. */
	tap_ok(!img_file_entry_build(&b, FD_TYPES__REG, 5, 3, reg, rlen), "build a file_entry with an opaque payload");
	tap_ok(b.len == flen && !memcmp(b.data, full, flen),
	       "byte-for-byte what protobuf-c packs for the same file_entry");

	tap_ok(!img_file_entry_parse(b.data, b.len, &fe, &why) && fe.type == FD_TYPES__REG && fe.id == 5 &&
		       fe.payload_field == 3 && fe.payload_len == rlen && !memcmp(fe.payload, reg, rlen),
	       "parse it back: type, id, payload field 3 and its bytes");

	fentry = file_entry__unpack(NULL, b.len, b.data);
	tap_ok(fentry && fentry->reg && !strcmp(fentry->reg->name, "/etc/hostname") && fentry->reg->size == 77,
	       "protobuf-c unpacks the built entry as file_entry");
	if (fentry)
		file_entry__free_unpacked(fentry, NULL);

	tap_ok(img_file_entry_build(&b, 1, 1, 2, "x", 1) == -EINVAL &&
		       img_file_entry_build(&b, 1, 1, PBWIRE_MAX_FIELD + 1, "x", 1) == -EINVAL,
	       "payload field numbers below 3 or too big are refused");
	pbwire_buf_free(&b);

	{
		struct pbwire_buf t = { 0 };
		int ret;

		pbwire_append_varint_field(&t, 1, 1);
		ret = img_file_entry_parse(t.data, t.len, &fe, &why);
		tap_ok(ret == -EINVAL && why, "parse: no id: -EINVAL (%s)", why ? why : "");
		pbwire_append_varint_field(&t, 2, (uint64_t)1 << 33);
		ret = img_file_entry_parse(t.data, t.len, &fe, &why);
		tap_ok(ret == -EINVAL, "parse: id above 32 bits: -EINVAL (%s)", why);
		pbwire_buf_free(&t);

		img_file_entry_build(&t, 2, 9, 18, "a", 1);
		pbwire_append_bytes_field(&t, 3, "b", 1);
		ret = img_file_entry_parse(t.data, t.len, &fe, &why);
		tap_ok(ret == -EINVAL, "parse: two payloads: -EINVAL (%s)", why);
		pbwire_buf_free(&t);

		pbwire_append_bytes_field(&t, 1, "a", 1);
		pbwire_append_varint_field(&t, 2, 1);
		ret = img_file_entry_parse(t.data, t.len, &fe, &why);
		tap_ok(ret == -EINVAL, "parse: type is not a varint: -EINVAL (%s)", why);
		pbwire_buf_free(&t);

		pbwire_append_varint_field(&t, 1, 1);
		pbwire_append_varint_field(&t, 2, 1);
		pbwire_append_varint_field(&t, 5, 1);
		ret = img_file_entry_parse(t.data, t.len, &fe, &why);
		tap_ok(ret == -EINVAL, "parse: a scalar payload: -EINVAL (%s)", why);
		pbwire_buf_free(&t);

		pbwire_append_varint_field(&t, 1, 1);
		pbwire_append_varint_field(&t, 2, 1);
		tap_ok(!img_file_entry_parse(t.data, t.len, &fe, &why) && !fe.payload_field && !fe.payload,
		       "parse: no payload is not an error (payload_field 0)");
		pbwire_buf_free(&t);
	}
	free(reg);
	free(full);
}

/* files.img through the image layer: built entries, read back both ways. */
static void test_files_img(void)
{
	PipeEntry pe = PIPE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	struct img_file_entry fe;
	struct img_dir *dir;
	struct image *img;
	FileEntry *f = NULL;
	uint8_t *reg, *pipe;
	size_t rlen, plen;
	void *buf = NULL;
	const char *log;
	int ret;

	tap_mkdir();
	img_dir_open(AT_FDCWD, tap_dir, &dir);
	reg = pack_reg(&rlen);
	pe.id = 6;
	pe.pipe_id = 1000;
	pe.flags = 0;
	pe.fown = &fown;
	plen = pipe_entry__get_packed_size(&pe);
	pipe = malloc(plen);
	pipe_entry__pack(&pe, pipe);

	img_open_write(dir, "files.img", FILES_MAGIC, &img);
	ret = img_write_file_entry(img, FD_TYPES__REG, 5, 3, reg, rlen);
	if (!ret)
		ret = img_write_file_entry(img, FD_TYPES__PIPE, 6, 18, pipe, plen);
	tap_ok(!ret && !img_close(img), "write two files.img entries with opaque payloads");

	img_open_read(dir, "files.img", FILES_MAGIC, IMG_MUST_EXIST, &img);
	ret = img_read_file_entry(img, &fe, &buf);
	tap_ok(ret == 1 && fe.type == FD_TYPES__REG && fe.id == 5 && fe.payload_field == 3 && fe.payload_len == rlen &&
		       !memcmp(fe.payload, reg, rlen),
	       "read the first back as an opaque entry");
	free(buf);
	ret = img_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&f);
	tap_ok(ret == 1 && f->type == FD_TYPES__PIPE && f->pipe && f->pipe->pipe_id == 1000,
	       "read the second as a full file_entry");
	if (ret == 1)
		file_entry__free_unpacked(f, NULL);
	tap_ok(img_read_file_entry(img, &fe, &buf) == 0 && !buf, "then the end of the file");
	img_close(img);

	/* A malformed entry in files.img is reported with the file and entry. */
	img_open_write(dir, "files.img", FILES_MAGIC, &img);
	img_write_file_entry(img, FD_TYPES__PIPE, 6, 18, pipe, plen);
	img_write_entry(img, "\x08\x01\x12\x05zz", 6);
	img_close(img);
	img_open_read(dir, "files.img", FILES_MAGIC, IMG_MUST_EXIST, &img);
	ret = img_read_file_entry(img, &fe, &buf);
	free(buf);
	log_take();
	ret = img_read_file_entry(img, &fe, &buf);
	log = log_take();
	tap_ok(ret == -EINVAL && !buf && log_has(log, "files.img: entry 2") && log_has(log, "malformed"),
	       "a malformed files.img entry: -EINVAL naming file and entry 2");
	img_close(img);

	free(reg);
	free(pipe);
	img_dir_close(dir);
	tap_rmdir();
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 16;
}

static void test_fuzz(void)
{
	int i, found = 0, errs = 0;
	uint8_t *reg;
	size_t rlen;

	reg = pack_reg(&rlen);
	for (i = 0; i < 5000; i++) {
		struct pbwire_buf b = { 0 };
		struct img_file_entry fe;
		struct pbwire_field f;
		size_t n, k, pos = 0;
		uint8_t *m;
		const void *p;
		size_t len;
		int ret;

		if (i % 2) {
			img_file_entry_build(&b, rnd() % 21, rnd(), 3 + rnd() % 20, reg, rlen);
			n = b.len;
			m = b.data;
			for (k = rnd() % 4; k; k--)
				m[rnd() % n] = rnd();
			if (rnd() % 2)
				n = rnd() % (n + 1);
		} else {
			n = rnd() % 64;
			m = malloc(n ? n : 1);
			for (k = 0; k < n; k++)
				m[k] = rnd();
		}
		/* Exact-size copies, so ASan sees any read past the end. */
		{
			uint8_t *exact = malloc(n ? n : 1);

			memcpy(exact, m, n);
			while ((ret = pbwire_next_field(exact, n, &pos, &f)) == 1)
				if (f.type == PBWIRE_LEN && (f.data < exact || f.data + f.len > exact + n))
					errs += 1000;
			ret = img_file_entry_parse(exact, n, &fe, NULL);
			if (!ret && fe.payload &&
			    ((const uint8_t *)fe.payload < exact ||
			     (const uint8_t *)fe.payload + fe.payload_len > exact + n))
				errs += 1000;
			found += !ret;
			ret = pbwire_find_field(exact, n, 3, &p, &len);
			if (ret && ret != -ENOENT && ret != -EINVAL)
				errs++;
			free(exact);
		}
		if (i % 2)
			pbwire_buf_free(&b);
		else
			free(m);
	}
	tap_ok(!errs, "fuzz: 5000 random and mutated messages decode safely (%d parsed as file_entry)", found);
	free(reg);
}

int main(void)
{
	tap_log_capture();
	test_varints();
	test_fields();
	test_file_entry();
	test_files_img();
	test_fuzz();
	return tap_done();
}
