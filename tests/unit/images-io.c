// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The image layer: round trips, framing bytes, raw payloads, missing
 * files, img_fd(), the SDK wrappers, write errors, corrupt images (each
 * must give a negative errno and an error naming the file and the entry)
 * and a fuzz loop over mutated images.
 */
#include "images-tap.h"

#include <errno.h>
#include <stdint.h>

#include <criu/plugin.h>

#include "images/image.h"

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "pipe-data.pb-c.h"
#include "pidns.pb-c.h"
#include "pstree.pb-c.h"
#include "seccomp.pb-c.h"
#include "stats.pb-c.h"
#include "utsns.pb-c.h"

static struct img_dir *dir;
static int dfd;

/* ------------------------------------------------------------------ */

static void test_roundtrip(void)
{
	TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
	PluginsEntry plugins = PLUGINS_ENTRY__INIT;
	InventoryEntry inv = INVENTORY_ENTRY__INIT, *rinv = NULL;
	PstreeEntry ps = PSTREE_ENTRY__INIT, *rps;
	char *names[] = { "files", "sockets" };
	uint32_t threads[] = { 10, 11, 12 };
	struct image *img;
	int ret, i, n;

	ids.vm_id = 1;
	ids.files_id = 2;
	ids.fs_id = 3;
	ids.sighand_id = 4;
	ids.has_time_ns_id = true;
	ids.time_ns_id = 99;
	plugins.n_plugins = 2;
	plugins.plugins = names;
	inv.img_version = CRTOOLS_IMAGES_V1_1;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.root_ids = &ids;
	inv.plugins_entry = &plugins;
	inv.dump_criu_run_id = "run-id";

	ret = img_open_write(dir, "inventory.img", INVENTORY_MAGIC, &img);
	tap_ok(!ret, "open inventory.img for writing");
	tap_ok(!img_write_msg(img, &inv.base), "write an inventory entry");
	tap_ok(!img_close(img), "close inventory.img");

	ret = img_open_read(dir, "inventory.img", INVENTORY_MAGIC, IMG_MUST_EXIST, &img);
	tap_ok(!ret && !img_is_empty(img), "open inventory.img for reading");
	ret = img_read_one(img, &inventory_entry__descriptor, (ProtobufCMessage **)&rinv);
	tap_ok(!ret && rinv, "read the inventory entry back");
	tap_ok(rinv && rinv->img_version == 2 && rinv->fdinfo_per_id && rinv->root_ids &&
		       rinv->root_ids->time_ns_id == 99 && rinv->plugins_entry && rinv->plugins_entry->n_plugins == 2 &&
		       !strcmp(rinv->plugins_entry->plugins[1], "sockets") && !strcmp(rinv->dump_criu_run_id, "run-id"),
	       "inventory fields survive the round trip");
	if (rinv)
		protobuf_c_message_free_unpacked(&rinv->base, NULL);
	tap_ok(img_read_msg(img, &inventory_entry__descriptor, (ProtobufCMessage **)&rinv) == 0 && !rinv,
	       "then a clean end of file");
	tap_ok(!img_close(img), "close after reading");

	/* Several entries in one file. */
	ret = img_open_write(dir, "pstree.img", PSTREE_MAGIC, &img);
	for (i = 1; !ret && i <= 100; i++) {
		ps.pid = i;
		ps.ppid = i - 1;
		ps.pgid = 1;
		ps.sid = 1;
		ps.n_threads = i % 4;
		ps.threads = threads;
		ret = img_write_msg(img, &ps.base);
	}
	tap_ok(!ret && img_entries(img) == 100, "write 100 pstree entries");
	tap_ok(!img_close(img), "close pstree.img");

	ret = img_open_read(dir, "pstree.img", PSTREE_MAGIC, 0, &img);
	n = 0;
	while (!ret && (ret = img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&rps)) == 1) {
		n++;
		if (rps->pid != (uint32_t)n || rps->ppid != (uint32_t)n - 1 || rps->n_threads != (size_t)(n % 4))
			ret = -100;
		protobuf_c_message_free_unpacked(&rps->base, NULL);
		ret = ret == -100 ? ret : 0;
	}
	tap_ok(ret == 0 && n == 100, "read 100 pstree entries back in order (%d, ret %d)", n, ret);
	img_close(img);
}

/* The bytes at the head of each kind of image. */
static void test_headers(void)
{
	StatsEntry st = STATS_ENTRY__INIT;
	uint8_t buf[64];
	struct image *img;
	uint32_t w[2];
	size_t n;

	img_open_write(dir, "core-7.img", CORE_MAGIC, &img);
	img_close(img);
	n = tap_get_file(dfd, "core-7.img", buf, sizeof(buf));
	tap_ok(n == 8 && !memcmp(buf, "\x19\x43\x56\x54\x47\x38\x05\x55", 8),
	       "core-N.img starts with 19 43 56 54 47 38 05 55");

	n = tap_get_file(dfd, "inventory.img", buf, sizeof(buf));
	memcpy(w, buf, 4);
	tap_ok(n > 4 && w[0] == INVENTORY_MAGIC, "inventory.img starts with INVENTORY_MAGIC alone");

	img_open_write(dir, "stats-dump", STATS_MAGIC, &img);
	img_write_msg(img, &st.base);
	img_close(img);
	n = tap_get_file(dfd, "stats-dump", buf, sizeof(buf));
	memcpy(w, buf, 8);
	tap_ok(n == 12 && w[0] == IMG_SERVICE_MAGIC && w[1] == STATS_MAGIC,
	       "stats-dump: service head magic, STATS, one empty entry");

	img_open_write(dir, "pages-1.img", PAGES_MAGIC, &img);
	img_write_raw(img, "abc", 3);
	img_close(img);
	n = tap_get_file(dfd, "pages-1.img", buf, sizeof(buf));
	tap_ok(n == 3 && !memcmp(buf, "abc", 3), "a raw image has no header");
	img_open_read(dir, "pages-1.img", PAGES_MAGIC, IMG_MUST_EXIST, &img);
	memset(buf, 0, 4);
	tap_ok(!img_read_raw(img, buf, 3) && !memcmp(buf, "abc", 3), "and reads back raw");
	img_close(img);
}

/* Entries followed by raw bytes, small and larger than the buffers. */
static void test_raw_payload(void)
{
	size_t big = 300 << 10, i, k;
	PipeDataEntry pd = PIPE_DATA_ENTRY__INIT, *rpd;
	SeccompFilter flt = SECCOMP_FILTER__INIT, *fp = &flt;
	SeccompEntry sc = SECCOMP_ENTRY__INIT, *rsc;
	uint8_t *data = malloc(big), *back = malloc(big), *fbuf = malloc(100000);
	struct image *img;
	bool same = true;
	int ret;

	for (i = 0; i < big; i++)
		data[i] = i * 7 + (i >> 9);
	for (i = 0; i < 100000; i++)
		fbuf[i] = i;

	img_open_write(dir, "pipes-data.img", PIPES_DATA_MAGIC, &img);
	for (k = 1; k <= 3; k++) {
		pd.pipe_id = k;
		pd.bytes = k == 2 ? big : k * 10;
		img_write_msg(img, &pd.base);
		img_write_raw(img, data, pd.bytes);
	}
	/* An entry bigger than the write buffer. */
	flt.filter.data = fbuf;
	flt.filter.len = 100000;
	sc.n_seccomp_filters = 1;
	sc.seccomp_filters = &fp;
	ret = img_write_msg(img, &sc.base);
	tap_ok(!ret, "write an entry larger than the buffer");
	tap_ok(!img_close(img), "close pipes-data.img");

	img_open_read(dir, "pipes-data.img", PIPES_DATA_MAGIC, 0, &img);
	for (k = 1; k <= 3; k++) {
		ret = img_read_msg(img, &pipe_data_entry__descriptor, (ProtobufCMessage **)&rpd);
		if (ret != 1) {
			same = false;
			break;
		}
		same = same && rpd->pipe_id == k;
		memset(back, 0, big);
		same = same && !img_read_raw(img, back, rpd->bytes) && !memcmp(back, data, rpd->bytes);
		protobuf_c_message_free_unpacked(&rpd->base, NULL);
	}
	tap_ok(same, "three entries each followed by raw data (one of 300 KiB) read back");
	ret = img_read_msg(img, &seccomp_entry__descriptor, (ProtobufCMessage **)&rsc);
	tap_ok(ret == 1 && rsc->n_seccomp_filters == 1 && rsc->seccomp_filters[0]->filter.len == 100000 &&
		       !memcmp(rsc->seccomp_filters[0]->filter.data, fbuf, 100000),
	       "the large entry reads back");
	if (ret == 1)
		protobuf_c_message_free_unpacked(&rsc->base, NULL);
	tap_ok(img_read_msg(img, &seccomp_entry__descriptor, (ProtobufCMessage **)&rsc) == 0, "end of file after it");
	img_close(img);

	/* Skipping a payload. */
	img_open_read(dir, "pipes-data.img", PIPES_DATA_MAGIC, 0, &img);
	ret = img_read_msg(img, &pipe_data_entry__descriptor, (ProtobufCMessage **)&rpd);
	if (ret == 1) {
		ret = img_skip_raw(img, rpd->bytes);
		protobuf_c_message_free_unpacked(&rpd->base, NULL);
	}
	ret = ret ? ret : img_read_msg(img, &pipe_data_entry__descriptor, (ProtobufCMessage **)&rpd);
	tap_ok(ret == 1 && rpd->pipe_id == 2, "img_skip_raw() skips a payload");
	if (ret == 1) {
		ret = img_skip_raw(img, rpd->bytes);
		protobuf_c_message_free_unpacked(&rpd->base, NULL);
	}
	tap_ok(ret == 0, "and a payload larger than the buffer");
	log_take();
	tap_ok(img_skip_raw(img, 1 << 30) == -EIO && log_has(log_take(), "pipes-data.img"),
	       "skipping past the end fails, naming the file");
	img_close(img);

	free(data);
	free(back);
	free(fbuf);
}

static void test_missing(void)
{
	PstreeEntry *ps = NULL;
	struct image *img = NULL;
	uint8_t b;
	int ret;

	log_take();
	ret = img_open_read(dir, "pstree-missing.img", PSTREE_MAGIC, 0, &img);
	tap_ok(!ret && img && img_is_empty(img), "a missing file opens as an empty image");
	tap_ok(img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&ps) == 0 && !ps,
	       "and reads as end of file");
	tap_ok(img_fd(img) == -ENOENT, "img_fd() of an empty image is -ENOENT");
	tap_ok(img_read_raw(img, &b, 1) == -EIO, "raw data can't be read from it");
	tap_ok(img_read_one(img, &pstree_entry__descriptor, (ProtobufCMessage **)&ps) == -EIO &&
		       log_has(log_take(), "pstree-missing.img"),
	       "img_read_one() on it is -EIO, naming the file");
	img_close(img);

	ret = img_open_read(dir, "pstree-missing.img", PSTREE_MAGIC, IMG_MUST_EXIST, &img);
	tap_ok(ret == -ENOENT && !img && log_has(log_take(), "pstree-missing.img"),
	       "IMG_MUST_EXIST: a missing file is -ENOENT, named in the log");
}

static void test_fd(void)
{
	PstreeEntry ps = PSTREE_ENTRY__INIT, *rps;
	struct image *img;
	char buf[8] = "";
	int fd, ret;

	img_open_write(dir, "fd.img", PSTREE_MAGIC, &img);
	ps.pid = 1;
	img_write_msg(img, &ps.base);
	fd = img_fd(img);
	tap_ok(fd >= 0 && write(fd, "DIRECT", 6) == 6, "write through img_fd()");
	ps.pid = 2;
	tap_ok(!img_write_msg(img, &ps.base) && !img_close(img), "then an entry after it");

	img_open_read(dir, "fd.img", PSTREE_MAGIC, 0, &img);
	ret = img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&rps);
	if (ret == 1)
		protobuf_c_message_free_unpacked(&rps->base, NULL);
	fd = img_fd(img);
	tap_ok(ret == 1 && fd >= 0 && read(fd, buf, 6) == 6 && !memcmp(buf, "DIRECT", 6),
	       "read through img_fd() after the read-ahead is given back");
	ret = img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&rps);
	tap_ok(ret == 1 && rps->pid == 2, "then the next entry");
	if (ret == 1)
		protobuf_c_message_free_unpacked(&rps->base, NULL);
	img_close(img);
}

static void test_sdk(void)
{
	UtsnsEntry u = UTSNS_ENTRY__INIT, *ru = NULL;
	struct cp_image *ci;
	char raw[4] = "";
	int ret;

	img_set_default_dir(NULL);
	errno = 0;
	log_take();
	tap_ok(cp_images_dir_fd() == -EBADF && !cp_image_open_write(NULL, "utsns-1.img", UTSNS_MAGIC) && errno == EBADF,
	       "SDK: no images dir set: -EBADF");
	img_set_default_dir(dir);
	tap_ok(cp_images_dir_fd() == dfd, "SDK: cp_images_dir_fd()");

	u.nodename = "host";
	u.domainname = "(none)";
	ci = cp_image_open_write(NULL, "utsns-1.img", UTSNS_MAGIC);
	tap_ok(ci && !cp_image_write_msg(ci, &u.base) && !cp_image_write_raw(ci, "xyz", 3) && cp_image_fd(ci) >= 0 &&
		       !cp_image_close(ci),
	       "SDK: write an entry and raw bytes");
	ci = cp_image_open_read(NULL, "utsns-1.img", UTSNS_MAGIC);
	ret = ci ? cp_image_read_msg(ci, &utsns_entry__descriptor, (ProtobufCMessage **)&ru) : -1;
	tap_ok(ret == 1 && !strcmp(ru->nodename, "host") && !cp_image_read_raw(ci, raw, 3) && !memcmp(raw, "xyz", 3),
	       "SDK: read them back");
	if (ret == 1)
		protobuf_c_message_free_unpacked(&ru->base, NULL);
	tap_ok(cp_image_read_raw(ci, raw, 1) == -EIO, "SDK: short raw read is -EIO");
	cp_image_close(ci);
	ci = cp_image_open_read(NULL, "utsns-2.img", UTSNS_MAGIC);
	tap_ok(ci && cp_image_read_msg(ci, &utsns_entry__descriptor, (ProtobufCMessage **)&ru) == 0,
	       "SDK: a missing image reads as empty");
	cp_image_close(ci);
	errno = 0;
	tap_ok(!cp_image_open_write(NULL, "../escape.img", UTSNS_MAGIC) && errno == EINVAL,
	       "SDK: a name with a slash is refused");
	img_set_default_dir(NULL);
	log_take();
}

static void test_write_errors(void)
{
	UtsnsEntry u = UTSNS_ENTRY__INIT;
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	struct image *img;
	const char *log;
	int ret, cret;

	log_take();
	img_open_write(dir, "utsns-9.img", UTSNS_MAGIC, &img);
	u.domainname = "x"; /* nodename, required, left NULL */
	ret = img_write_msg(img, &u.base);
	log = log_take();
	tap_ok(ret == -EINVAL && log_has(log, "utsns-9.img: entry 1") && log_has(log, "utsns_entry"),
	       "a message with an unset required field is refused, naming file and entry");
	tap_ok(!img_close(img), "and the image is still fine");

	if (symlinkat("/dev/full", dfd, "full.img")) {
		tap_ok(false, "symlink to /dev/full");
		return;
	}
	ret = img_open_write(dir, "full.img", PSTREE_MAGIC, &img);
	for (int i = 0; !ret && i < 20000; i++)
		ret = img_write_msg(img, &ps.base);
	cret = img_close(img);
	if (!ret)
		ret = cret;
	tap_ok(ret == -ENOSPC && log_has(log_take(), "full.img"),
	       "a full disk: -ENOSPC from the writes or img_close(), naming the file");
	tap_ok(img_open_write(dir, "a/b.img", PSTREE_MAGIC, &img) == -EINVAL && !img, "a name with a slash is refused");
	log_take();
}

/* ------------------------------------------------------------------ */
/* Corrupt images                                                       */

/* Build an image in memory: header for MAGIC, then what the test adds. */
struct mem {
	uint8_t b[4096];
	size_t n;
};

static void mem_put(struct mem *m, const void *p, size_t len)
{
	memcpy(m->b + m->n, p, len);
	m->n += len;
}

static void mem_u32(struct mem *m, uint32_t v)
{
	mem_put(m, &v, 4);
}

static void mem_header(struct mem *m, uint32_t magic)
{
	m->n = 0;
	mem_u32(m, IMG_COMMON_MAGIC);
	mem_u32(m, magic);
}

static void mem_pstree(struct mem *m, uint32_t pid)
{
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	size_t len;

	ps.pid = pid;
	len = pstree_entry__get_packed_size(&ps);
	mem_u32(m, len);
	pstree_entry__pack(&ps, m->b + m->n);
	m->n += len;
}

/*
 * Write M as NAME, open it as a pstree image and read every entry.
 * Returns the first error (or 0), and sets *LOG to what was logged.
 */
static int read_all(const char *name, const struct mem *m, const char **log, int *entries)
{
	struct image *img;
	PstreeEntry *ps;
	int ret;

	log_take();
	tap_put_file(dfd, name, m->b, m->n);
	*entries = 0;
	ret = img_open_read(dir, name, PSTREE_MAGIC, 0, &img);
	while (!ret && (ret = img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&ps)) == 1) {
		protobuf_c_message_free_unpacked(&ps->base, NULL);
		(*entries)++;
		ret = 0;
	}
	if (img && ret < 0) {
		/* The error is sticky and not logged twice. */
		const char *first = log_take();
		char copy[2048];

		snprintf(copy, sizeof(copy), "%s", first);
		if (img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&ps) != ret || log_take()[0])
			ret = -999;
		snprintf(tap_log_buf, sizeof(tap_log_buf), "%s", copy);
		*log = tap_log_buf;
		img_close(img);
		return ret;
	}
	img_close(img);
	*log = log_take();
	return ret;
}

static void test_corrupt(void)
{
	const char *log;
	struct mem m;
	int ret, n;

	m.n = 0;
	mem_put(&m, "\x19\x43\x56", 3);
	ret = read_all("short-header.img", &m, &log, &n);
	tap_ok(ret == -EIO && log_has(log, "short-header.img") && log_has(log, "header"),
	       "truncated header: -EIO naming the file");

	m.n = 0;
	ret = read_all("empty-file.img", &m, &log, &n);
	tap_ok(ret == -EIO && log_has(log, "empty-file.img"), "an existing empty file: -EIO");

	mem_header(&m, CORE_MAGIC);
	ret = read_all("bad-magic.img", &m, &log, &n);
	tap_ok(ret == -EINVAL && log_has(log, "bad-magic.img") && log_has(log, "CORE") && log_has(log, "PSTREE"),
	       "bad type magic: -EINVAL naming the file and both magics");

	m.n = 0;
	mem_u32(&m, 0x12345678);
	mem_u32(&m, PSTREE_MAGIC);
	ret = read_all("bad-head.img", &m, &log, &n);
	tap_ok(ret == -EINVAL && log_has(log, "bad-head.img") && log_has(log, "head magic"), "bad head magic: -EINVAL");

	mem_header(&m, PSTREE_MAGIC);
	mem_pstree(&m, 1);
	mem_u32(&m, 100);
	mem_put(&m, "\x08\x01", 2);
	ret = read_all("past-eof.img", &m, &log, &n);
	tap_ok(ret == -EIO && n == 1 && log_has(log, "past-eof.img: entry 2") && log_has(log, "past the end"),
	       "entry length past EOF: -EIO naming file and entry 2 (%d)", ret);

	mem_header(&m, PSTREE_MAGIC);
	mem_pstree(&m, 1);
	mem_pstree(&m, 2);
	mem_u32(&m, 0xffffffff);
	ret = read_all("huge.img", &m, &log, &n);
	tap_ok(ret == -EINVAL && n == 2 && log_has(log, "huge.img: entry 3"),
	       "huge entry length: -EINVAL naming entry 3");

	mem_header(&m, PSTREE_MAGIC);
	mem_u32(&m, IMG_MAX_ENTRY + 1);
	ret = read_all("over-cap.img", &m, &log, &n);
	tap_ok(ret == -EINVAL && log_has(log, "over-cap.img: entry 1"), "length just over the cap");

	mem_header(&m, PSTREE_MAGIC);
	mem_pstree(&m, 1);
	mem_put(&m, "\x05\x00", 2);
	ret = read_all("short-len.img", &m, &log, &n);
	tap_ok(ret == -EIO && n == 1 && log_has(log, "short-len.img: entry 2") && log_has(log, "truncated length"),
	       "truncated entry length: -EIO naming entry 2");

	mem_header(&m, PSTREE_MAGIC);
	mem_u32(&m, 6);
	mem_put(&m, "\xff\xff\xff\xff\xff\xff", 6);
	ret = read_all("garbage.img", &m, &log, &n);
	tap_ok(ret == -EINVAL && log_has(log, "garbage.img: entry 1") && log_has(log, "pstree_entry"),
	       "garbage protobuf: -EINVAL naming file, entry and message");

	mem_header(&m, PSTREE_MAGIC);
	mem_pstree(&m, 1);
	mem_u32(&m, 2);
	mem_put(&m, "\x08\x05", 2); /* pid only: ppid, pgid, sid missing */
	ret = read_all("required.img", &m, &log, &n);
	tap_ok(ret == -EINVAL && n == 1 && log_has(log, "required.img: entry 2"),
	       "an entry missing required fields: -EINVAL");

	mem_header(&m, PSTREE_MAGIC);
	mem_u32(&m, 0);
	ret = read_all("zero.img", &m, &log, &n);
	tap_ok(ret == -EINVAL && log_has(log, "zero.img: entry 1"),
	       "a zero-length entry of a message with required fields: -EINVAL");

	{
		PidnsEntry *pe;
		struct image *img;

		mem_header(&m, PIDNS_MAGIC);
		mem_u32(&m, 0);
		tap_put_file(dfd, "pidns-1.img", m.b, m.n);
		img_open_read(dir, "pidns-1.img", PIDNS_MAGIC, 0, &img);
		ret = img_read_msg(img, &pidns_entry__descriptor, (ProtobufCMessage **)&pe);
		tap_ok(ret == 1 && !pe->ext_key,
		       "a zero-length entry of an all-optional message is valid (CRIU writes those)");
		if (ret == 1)
			protobuf_c_message_free_unpacked(&pe->base, NULL);
		img_close(img);
	}

	{
		struct image *img;
		PstreeEntry *ps;
		uint8_t b[8];

		mem_header(&m, PSTREE_MAGIC);
		mem_pstree(&m, 1);
		mem_put(&m, "abc", 3);
		tap_put_file(dfd, "short-raw.img", m.b, m.n);
		log_take();
		img_open_read(dir, "short-raw.img", PSTREE_MAGIC, 0, &img);
		ret = img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&ps);
		if (ret == 1)
			protobuf_c_message_free_unpacked(&ps->base, NULL);
		ret = img_read_raw(img, b, 8);
		log = log_take();
		tap_ok(ret == -EIO && log_has(log, "short-raw.img: data after entry 1"),
		       "short raw data after an entry: -EIO naming the entry");
		img_close(img);
	}
}

/* ------------------------------------------------------------------ */
/* Fuzzing                                                              */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 16;
}

/* Read FILE as a core image, all entries: returns 0 or a negative errno; must not crash. */
static int fuzz_read(const char *name, uint32_t magic, const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *msg;
	struct image *img;
	int ret;

	ret = img_open_read(dir, name, magic, 0, &img);
	while (!ret && (ret = img_read_msg(img, desc, &msg)) == 1) {
		protobuf_c_message_free_unpacked(msg, NULL);
		ret = 0;
	}
	img_close(img);
	return ret;
}

static void make_core(uint8_t **out, size_t *len)
{
	UserX86RegsEntry regs = USER_X86_REGS_ENTRY__INIT;
	UserX86FpregsEntry fp = USER_X86_FPREGS_ENTRY__INIT;
	ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	CoreEntry ce = CORE_ENTRY__INIT;
	uint32_t st[32] = { 1, 2, 3 };
	struct image *img;
	int i;

	regs.ip = 0x401000;
	regs.sp = 0x7ffc0000;
	fp.n_st_space = 32;
	fp.st_space = st;
	ti.gpregs = &regs;
	ti.fpregs = &fp;
	tc.comm = "fuzz";
	ce.mtype = CORE_ENTRY__MARCH__X86_64;
	ce.thread_info = &ti;
	ce.tc = &tc;
	ce.thread_core = &th;
	img_open_write(dir, "core-fuzz.img", CORE_MAGIC, &img);
	for (i = 0; i < 3; i++)
		img_write_msg(img, &ce.base);
	img_close(img);
	*out = malloc(4096);
	*len = tap_get_file(dfd, "core-fuzz.img", *out, 4096);
}

static void test_fuzz(void)
{
	int iters = 3000, i, bad = 0, errs = 0;
	uint8_t *good, *buf;
	size_t len, n, k;

	make_core(&good, &len);
	buf = malloc(len + 64);
	tap_ok(fuzz_read("core-fuzz.img", CORE_MAGIC, &core_entry__descriptor) == 0,
	       "fuzz seed: a valid core image of %zu bytes", len);
	for (i = 0; i < iters; i++) {
		int ret;

		memcpy(buf, good, len);
		n = len;
		switch (rnd() % 4) {
		case 0: /* truncate */
			n = rnd() % len;
			break;
		case 1: /* flip some bytes */
			for (k = rnd() % 8 + 1; k; k--)
				buf[rnd() % len] ^= 1 + rnd() % 255;
			break;
		case 2: /* corrupt a length word */
			memcpy(buf + 8 + (rnd() % 16), &(uint32_t){ rnd() }, 4);
			break;
		default: /* random bytes after a valid header */
			n = 8 + rnd() % 256;
			for (k = 8; k < n; k++)
				buf[k] = rnd();
			break;
		}
		tap_put_file(dfd, "fuzz.img", buf, n);
		ret = fuzz_read("fuzz.img", CORE_MAGIC, &core_entry__descriptor);
		if (ret > 0 || (ret < 0 && ret != -EIO && ret != -EINVAL))
			bad++;
		if (ret < 0)
			errs++;
		log_take();
	}
	tap_ok(!bad, "fuzz: %d mutated images, %d rejected, every result 0, -EIO or -EINVAL", iters, errs);

	/* Whole files of noise, read as inventory (one magic) and as raw-headed core. */
	bad = 0;
	for (i = 0; i < 2000; i++) {
		int ret;

		n = rnd() % 200;
		for (k = 0; k < n; k++)
			buf[k] = rnd();
		if (i % 2 && n >= 8)
			memcpy(buf, good, 8);
		tap_put_file(dfd, "noise.img", buf, n);
		ret = fuzz_read("noise.img", i % 2 ? CORE_MAGIC : INVENTORY_MAGIC,
				i % 2 ? &core_entry__descriptor : &inventory_entry__descriptor);
		if (ret > 0 || (ret < 0 && ret != -EIO && ret != -EINVAL))
			bad++;
		log_take();
	}
	tap_ok(!bad, "fuzz: 2000 files of random bytes give 0, -EIO or -EINVAL");
	free(good);
	free(buf);
}

int main(void)
{
	tap_log_capture();
	tap_mkdir();
	if (img_dir_open(AT_FDCWD, tap_dir, &dir)) {
		printf("Bail out! can't open %s\n", tap_dir);
		return 1;
	}
	dfd = img_dir_fd(dir);
	tap_ok(!strcmp(img_dir_path(dir), tap_dir), "img_dir_open() keeps the path");
	{
		struct img_dir *d2;

		tap_ok(img_dir_open(AT_FDCWD, "/nonexistent/images", &d2) == -ENOENT && !d2 &&
			       log_has(log_take(), "/nonexistent/images"),
		       "img_dir_open() of a missing dir: -ENOENT, named");
	}

	test_roundtrip();
	test_headers();
	test_raw_payload();
	test_missing();
	test_fd();
	test_sdk();
	test_write_errors();
	test_corrupt();
	test_fuzz();

	img_dir_close(dir);
	tap_rmdir();
	return tap_done();
}
