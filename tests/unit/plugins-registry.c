// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The plugin registry without dlopen: plugins made of descriptors in this
 * program, started with plugin_start(). Covers fd kinds (order, -ENOTSUP
 * chain, validation, dump and open), hooks (order, failure, CP_RETRY,
 * the stages that run every hook, log prefix), the life cycle (failed
 * init, fini order, private data) and image declarations.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.pb-c.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"
#include "plugins-tap.h"

/* What the fake plugins did, in order: "ka:match,kb:match,". */
static char trace[1024];

static void note(const char *who, const char *what)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%s:%s,", who, what);
}

/* Per-plugin behaviour, set by each test before it starts the plugins. */
struct behave {
	int match;
	int hook;
	int dump;
	int open;
	int open_fd;
	int pack_times;
};

static struct behave beh_a, beh_b;

static struct behave *beh_of(struct cp_plugin *p)
{
	return strcmp(cp_plugin_name(p), "pa") ? &beh_b : &beh_a;
}

static int k_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	note(cp_plugin_name(p), "match");
	/* fd 3 is "pa"'s, whatever the test said for other fds. */
	if (!strcmp(cp_plugin_name(p), "pa") && fd->fd == 3)
		return 0;
	return beh_of(p)->match;
}

static int k_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	InventoryEntry ie = INVENTORY_ENTRY__INIT;
	struct behave *b = beh_of(p);
	int ret = 0;

	note(cp_plugin_name(p), "dump");
	ie.img_version = id;
	for (int i = 0; i < b->pack_times; i++) {
		ret = cp_payload_pack(out, &ie.base);
		if (ret)
			return ret;
	}
	return b->dump;
}

static int k_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	struct behave *b = beh_of(p);

	note(cp_plugin_name(p), "open");
	if (b->open_fd >= 0)
		*out_fd = b->open_fd;
	return b->open;
}

static int h_hook(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	note(cp_plugin_name(p), "hook");
	pr_warn("hook of %s runs", cp_plugin_name(p));
	return beh_of(p)->hook;
}

static void p_fini(struct cp_plugin *p)
{
	note(cp_plugin_name(p), "fini");
}

static void p_free(void *data)
{
	note((const char *)data, "free");
}

static int pa_init(struct cp_plugin *p)
{
	struct cp_fd_ops ops = {
		.size = sizeof(ops),
		.name = "a-kind",
		.type = 10,
		.payload_field = 10,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
	};
	int ret;

	ret = cp_register_fd_kind(p, &ops);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_DUMP_INIT, h_hook);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_DUMP, h_hook);
	cp_plugin_set_data(p, (void *)"pa", p_free);
	return ret;
}

static int pb_init(struct cp_plugin *p)
{
	/* The ops live on the stack: the core must copy them. */
	struct cp_fd_ops ops = {
		.size = sizeof(ops),
		.name = "b-kind",
		.type = 11,
		.payload_field = 11,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
		.uses = CP_USES(CP_USE_MAP), /* pa's kind takes fds only */
	};
	int ret;

	ret = cp_register_fd_kind(p, &ops);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_DUMP_INIT, h_hook);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_DUMP, h_hook);
	cp_plugin_set_data(p, (void *)"pb", p_free);
	return ret;
}

static const struct cp_plugin_desc desc_a = {
	.abi_major = CP_ABI_MAJOR,
	.abi_minor = CP_ABI_MINOR,
	.name = "pa",
	.version = "1",
	.init = pa_init,
	.fini = p_fini,
};
static const struct cp_plugin_desc desc_b = {
	.abi_major = CP_ABI_MAJOR,
	.abi_minor = CP_ABI_MINOR,
	.name = "pb",
	.version = "1",
	.init = pb_init,
	.fini = p_fini,
};

static int start(const struct cp_plugin_desc *d)
{
	struct cp_plugin *p = plugin_new(d, NULL, NULL);

	return p ? plugin_start(p) : -ENOMEM;
}

/* Start pa then pb, with both passing by default. */
static void start_both(void)
{
	beh_a = (struct behave){ .match = -ENOTSUP, .open_fd = -1, .pack_times = 1 };
	beh_b = (struct behave){ .match = -ENOTSUP, .open_fd = -1, .pack_times = 1 };
	CHECK_EQ(start(&desc_a), 0);
	CHECK_EQ(start(&desc_b), 0);
	CHECK_EQ(plugins_count(), 2);
	trace[0] = '\0';
}

static struct cp_fd_desc fd_desc(int fd)
{
	struct cp_fd_desc d = { .size = sizeof(d), .pid = 1, .fd = fd, .local_fd = -1 };

	d.link = "/test";
	return d;
}

static void t_fd_match_load_order(void)
{
	const struct cp_fd_ops *ops = NULL;
	struct cp_plugin *owner = NULL;
	struct cp_fd_desc d3 = fd_desc(3), d4 = fd_desc(4);

	start_both();
	beh_b.match = 0;
	CHECK_EQ(plugins_match_fd(&d3, &ops, &owner), 0);
	CHECK(owner && !strcmp(cp_plugin_name(owner), "pa"));
	CHECK(ops && ops->type == 10 && !strcmp(ops->name, "a-kind"));
	/* pa is asked first and passes; pb takes it. */
	CHECK_EQ(plugins_match_fd(&d4, &ops, &owner), 0);
	CHECK(owner && !strcmp(cp_plugin_name(owner), "pb"));
	CHECK(!strcmp(trace, "pa:match,pa:match,pb:match,"));

	CHECK_EQ(plugins_find_fd_type(11, &ops, &owner), 0);
	CHECK(!strcmp(cp_plugin_name(owner), "pb") && ops->type == 11);
	CHECK_EQ(plugins_find_fd_type(12, &ops, &owner), -ENOTSUP);
	plugins_unload();
}

/* Files that are not fds go only to the kinds that take their use (1.1). */
static void t_fd_uses(void)
{
	struct cp_fd_desc d = fd_desc(-1);
	struct cp_file f = { .size = sizeof(f), .id = 1, .pid = 1, .fd = -1, .use = CP_USE_MAP };
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;
	uint32_t id;
	int fd = -1;

	start_both();
	beh_a.match = 0;
	beh_b.match = 0;
	beh_b.open_fd = 7;
	d.use = CP_USE_MAP;
	CHECK_EQ(plugins_match_fd(&d, &ops, &owner), 0);
	CHECK(!strcmp(cp_plugin_name(owner), "pb"));
	CHECK(!strcmp(trace, "pb:match,"));
	d.use = CP_USE_EXE;
	CHECK_EQ(plugins_match_fd(&d, &ops, &owner), -ENOTSUP);
	f.type = 10;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), -ENOTSUP);
	CHECK_LOG("takes none but fds");
	f.type = 11;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), 0);
	CHECK_EQ(fd, 7);
	/* The file services answer only while the core dumps or restores files. */
	CHECK_EQ(cp_file_open_id(1, 0, &fd), -EPERM);
	CHECK_EQ(cp_shmem_dump(0, 1, 0), -EPERM);
	CHECK_EQ(cp_shmem_restore(0, 1, 0), -EPERM);
	/* A kind is named by the ops its own plugin registered, not the core's copy. */
	CHECK_EQ(cp_file_dump_as(owner, ops, &d, &id), -EINVAL);
	plugins_unload();
}

static void t_fd_match_enotsup_chain(void)
{
	struct cp_fd_desc d4 = fd_desc(4);
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;

	start_both();
	CHECK_EQ(plugins_match_fd(&d4, &ops, &owner), -ENOTSUP);
	CHECK(!strcmp(trace, "pa:match,pb:match,"));

	/* A real error stops the search: pb is not asked. */
	trace[0] = '\0';
	beh_a.match = -EIO;
	CHECK_EQ(plugins_match_fd(&d4, &ops, &owner), -EIO);
	CHECK(!strcmp(trace, "pa:match,"));
	CHECK_LOG("can't tell whether fd 4 (/test) of pid 1 is a a-kind");

	/* A positive value from match() is a plugin bug, not a match. */
	beh_a.match = 5;
	CHECK_EQ(plugins_match_fd(&d4, &ops, &owner), -EINVAL);
	plugins_unload();
}

/* Results of registrations tried inside kv_init(), checked by the test. */
static int kv_res[10];
static struct cp_plugin *kv_plugin;

static int kv_init(struct cp_plugin *p)
{
	struct cp_fd_ops ok = {
		.size = sizeof(ok),
		.name = "v-kind",
		.type = 20,
		.payload_field = 1,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
	};
	struct cp_fd_ops bad;

	kv_plugin = p;
	kv_res[0] = cp_register_fd_kind(p, NULL);
	bad = ok;
	bad.size = 8;
	kv_res[1] = cp_register_fd_kind(p, &bad);
	bad.size = sizeof(bad) + 8;
	kv_res[2] = cp_register_fd_kind(p, &bad);
	bad = ok;
	bad.open = NULL;
	kv_res[3] = cp_register_fd_kind(p, &bad);
	bad = ok;
	bad.type = 0;
	kv_res[4] = cp_register_fd_kind(p, &bad);
	bad = ok;
	bad.name = NULL;
	kv_res[5] = cp_register_fd_kind(p, &bad);
	kv_res[6] = cp_register_fd_kind(p, &ok);
	bad = ok;
	bad.name = "v-again";
	kv_res[7] = cp_register_fd_kind(p, &bad);
	bad.name = "v-other";
	bad.payload_field = 2;
	kv_res[8] = cp_register_fd_kind(p, &bad);
	return 0;
}

static void t_fd_kind_validation(void)
{
	const struct cp_plugin_desc desc_v = {
		.abi_major = CP_ABI_MAJOR,
		.name = "pv",
		.init = kv_init,
	};
	struct cp_fd_ops ops = {
		.size = sizeof(ops),
		.name = "late",
		.type = 21,
		.payload_field = 1,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
	};

	CHECK_EQ(start(&desc_v), 0);
	CHECK_EQ(kv_res[0], -EINVAL);
	CHECK_EQ(kv_res[1], -EINVAL);
	CHECK_EQ(kv_res[2], -EINVAL);
	CHECK_EQ(kv_res[3], -EINVAL);
	CHECK_EQ(kv_res[4], -EINVAL);
	CHECK_EQ(kv_res[5], -EINVAL);
	CHECK_EQ(kv_res[6], 0);
	/* Kinds may share a FileEntry type if they agree on the payload field. */
	CHECK_EQ(kv_res[7], 0);
	CHECK_EQ(kv_res[8], -EEXIST);
	CHECK_LOG("fd kind v-other puts FileEntry type 20 in field 2, but fd kind v-kind of plugin pv puts it in "
		  "field 1");
	CHECK_LOG("fd kind v-kind lacks open()");
	/* Only from init(). */
	CHECK_EQ(cp_register_fd_kind(kv_plugin, &ops), -EPERM);
	CHECK_EQ(cp_register_hook(kv_plugin, CP_STAGE_DUMP_INIT, h_hook), -EPERM);
	CHECK_EQ(cp_register_option(kv_plugin, "x", CP_OPT_BOOL, NULL, NULL), -EPERM);
	CHECK_EQ(cp_register_image(kv_plugin, "x.img", 0), -EPERM);
	CHECK_LOG("pv: cp_register_hook() called outside init()");
	CHECK_EQ(plugin_fd_kind_count(), 2);
	plugins_unload();
	CHECK_EQ(plugin_fd_kind_count(), 0);
}

static int pc_init(struct cp_plugin *p)
{
	/* Claims pa's FileEntry type, with its payload in another field. */
	struct cp_fd_ops ops = {
		.size = sizeof(ops),
		.name = "c-kind",
		.type = 10,
		.payload_field = 1,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
	};

	return cp_register_fd_kind(p, &ops);
}

static void t_fd_kind_same_type_two_plugins(void)
{
	const struct cp_plugin_desc desc_c = {
		.abi_major = CP_ABI_MAJOR,
		.name = "pc",
		.init = pc_init,
		.fini = p_fini,
	};

	start_both();
	CHECK_EQ(start(&desc_c), -EEXIST);
	CHECK_EQ(plugins_count(), 2);
	CHECK(!plugins_is_loaded("pc"));
	/* Its init() failed, so its fini() is not called. */
	CHECK(!strstr(trace, "pc:fini"));
	CHECK_LOG("pc: fd kind c-kind puts FileEntry type 10 in field 1, but fd kind a-kind of plugin pa puts it in "
		  "field 10");
	plugins_unload();
}

static void t_fd_dump_payload(void)
{
	struct cp_fd_desc d3 = fd_desc(3);
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;
	void *payload = NULL;
	size_t len = 0;
	InventoryEntry *ie;

	start_both();
	CHECK_EQ(plugins_match_fd(&d3, &ops, &owner), 0);
	CHECK_EQ(plugins_call_fd_dump(owner, ops, &d3, 42, &payload, &len), 0);
	ie = inventory_entry__unpack(NULL, len, payload);
	CHECK(ie && ie->img_version == 42);
	if (ie)
		inventory_entry__free_unpacked(ie, NULL);
	free(payload);

	/* No payload packed: an error, and nothing to free. */
	beh_a.pack_times = 0;
	payload = NULL;
	CHECK_EQ(plugins_call_fd_dump(owner, ops, &d3, 1, &payload, &len), -EINVAL);
	CHECK(payload == NULL);
	CHECK_LOG("dump() of fd kind a-kind gave no payload for fd 3 of pid 1");

	/* Packing twice is refused. */
	beh_a.pack_times = 2;
	CHECK_EQ(plugins_call_fd_dump(owner, ops, &d3, 1, &payload, &len), -EEXIST);

	/* A failing dump after packing: the payload is freed (LeakSanitizer checks). */
	beh_a.pack_times = 1;
	beh_a.dump = -EIO;
	CHECK_EQ(plugins_call_fd_dump(owner, ops, &d3, 1, &payload, &len), -EIO);
	CHECK_LOG("pa: can't dump fd 3 (/test) of pid 1 as a-kind");
	plugins_unload();
}

static void t_fd_open(void)
{
	struct cp_file f = { .size = sizeof(f), .id = 7, .type = 10, .pid = 1, .fd = 5 };
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;
	int fd = -1;

	start_both();
	CHECK_EQ(plugins_find_fd_type(10, &ops, &owner), 0);

	beh_a.open = CP_RETRY;
	CHECK_EQ(plugins_call_fd_open(owner, ops, &f, &fd), CP_RETRY);
	CHECK_EQ(fd, -1);

	beh_a.open = 0;
	beh_a.open_fd = 9;
	CHECK_EQ(plugins_call_fd_open(owner, ops, &f, &fd), 0);
	CHECK_EQ(fd, 9);

	beh_a.open_fd = -1;
	CHECK_EQ(plugins_call_fd_open(owner, ops, &f, &fd), -EINVAL);

	beh_a.open = -ENOENT;
	CHECK_EQ(plugins_call_fd_open(owner, ops, &f, &fd), -ENOENT);
	CHECK_LOG("can't open a-kind (file id 7) as fd 5 of pid 1");
	plugins_unload();
}

static int post_open_ret;

static int k_post_open(struct cp_plugin *p, const struct cp_file *file, int fd)
{
	char what[32];

	snprintf(what, sizeof(what), "post_open(%u,%d)", file->id, fd);
	note(cp_plugin_name(p), what);
	return post_open_ret;
}

static int pd_init(struct cp_plugin *p)
{
	/* Shares pa's FileEntry type and field: asked after pa on restore. */
	struct cp_fd_ops ops = {
		.size = sizeof(ops),
		.name = "d-kind",
		.type = 10,
		.payload_field = 10,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
		.post_open = k_post_open,
	};

	return cp_register_fd_kind(p, &ops);
}

static void t_fd_open_shared_type(void)
{
	const struct cp_plugin_desc desc_d = {
		.abi_major = CP_ABI_MAJOR,
		.name = "pd",
		.init = pd_init,
	};
	struct cp_file f = { .size = sizeof(f), .id = 8, .type = 10, .pid = 1, .fd = 5 };
	int fd = -1;

	start_both();
	CHECK_EQ(start(&desc_d), 0);
	trace[0] = '\0';

	/* pa says "not mine", pd (on beh_b) takes it. */
	beh_a.open = -ENOTSUP;
	beh_b.open = 0;
	beh_b.open_fd = 7;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), 0);
	CHECK_EQ(fd, 7);
	CHECK(!strcmp(trace, "pa:open,pd:open,"));

	/* The first that accepts wins; pd is not asked. */
	trace[0] = '\0';
	beh_a.open = 0;
	beh_a.open_fd = 6;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), 0);
	CHECK_EQ(fd, 6);
	CHECK(!strcmp(trace, "pa:open,"));

	/* A retry or a failure ends the search too. */
	beh_a.open = CP_RETRY;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), CP_RETRY);
	beh_a.open = -EIO;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), -EIO);

	/* Nobody accepts it, or nobody handles the type. */
	beh_a.open = -ENOTSUP;
	beh_b.open = -ENOTSUP;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), -ENOTSUP);
	CHECK_LOG("no fd kind registered for FileEntry type 10 accepts file id 8 of pid 1");
	f.type = 99;
	CHECK_EQ(plugins_open_file(&f, &fd, NULL), -ENOTSUP);
	CHECK_LOG("no loaded plugin handles FileEntry type 99");
	plugins_unload();
}

/* An ABI 1.0 kind: its ops end with open(), so post_open reads as NULL. */
static int pe_init(struct cp_plugin *p)
{
	struct cp_fd_ops ops = {
		.name = "e-kind",
		.type = 12,
		.payload_field = 12,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
		.post_open = k_post_open, /* past the size given: never read */
	};

	ops.size = offsetof(struct cp_fd_ops, post_open);
	return cp_register_fd_kind(p, &ops);
}

static void t_fd_post_open(void)
{
	const struct cp_plugin_desc desc_d = { .abi_major = CP_ABI_MAJOR, .name = "pd", .init = pd_init };
	const struct cp_plugin_desc desc_e = { .abi_major = CP_ABI_MAJOR, .name = "pe", .init = pe_init };
	struct cp_file f = { .size = sizeof(f), .id = 8, .type = 10, .pid = 1, .fd = 5 };
	const struct plugin_fd_kind *kind = NULL;
	int fd = -1;

	start_both();
	CHECK_EQ(start(&desc_d), 0);
	CHECK_EQ(start(&desc_e), 0);
	trace[0] = '\0';

	/* pa (no post_open) opens it: nothing to call afterwards. */
	beh_a.open = 0;
	beh_a.open_fd = 6;
	CHECK_EQ(plugins_open_file(&f, &fd, &kind), 0);
	CHECK(kind && !strcmp(kind->ops.name, "a-kind"));
	CHECK_EQ(plugins_post_open_file(kind, &f, 5), 0);
	CHECK(!strcmp(trace, "pa:open,"));

	/* pd opens it: its post_open() gets the file and the fd, once. */
	trace[0] = '\0';
	beh_a.open = -ENOTSUP;
	beh_b.open = 0;
	beh_b.open_fd = 7;
	kind = NULL;
	CHECK_EQ(plugins_open_file(&f, &fd, &kind), 0);
	CHECK(kind && !strcmp(kind->ops.name, "d-kind"));
	CHECK_EQ(plugins_post_open_file(kind, &f, 5), 0);
	CHECK(!strcmp(trace, "pa:open,pd:open,pd:post_open(8,5),"));

	/* A failure is reported with the plugin, the file and the fd; -ENOTSUP is one too. */
	post_open_ret = -ENOTSUP;
	CHECK_EQ(plugins_post_open_file(kind, &f, 5), -ENOTSUP);
	CHECK_LOG("plugin pd: can't finish d-kind (file id 8) at fd 5 of pid 1");
	post_open_ret = 3;
	CHECK_EQ(plugins_post_open_file(kind, &f, 5), -EINVAL);
	post_open_ret = 0;

	/* The ABI 1.0 kind was accepted, and its post_open is not there. */
	f.type = 12;
	kind = NULL;
	beh_b.open = 0;
	CHECK_EQ(plugins_open_file(&f, &fd, &kind), 0);
	CHECK(kind && !strcmp(kind->ops.name, "e-kind") && !kind->ops.post_open);
	trace[0] = '\0';
	CHECK_EQ(plugins_post_open_file(kind, &f, 5), 0);
	CHECK(!strcmp(trace, ""));
	plugins_unload();
}

static int k_group(struct cp_plugin *p, const struct cp_file *file, uint64_t *key)
{
	note(cp_plugin_name(p), "group");
	*key = 0x100 + file->id;
	return 0;
}

/* An ABI 1.2 kind with group(), and a 1.1 kind whose ops end before it. */
static int pg_init(struct cp_plugin *p)
{
	struct cp_fd_ops ops = {
		.size = sizeof(ops),
		.name = "g-kind",
		.type = 13,
		.payload_field = 13,
		.match = k_match,
		.dump = k_dump,
		.open = k_open,
		.group = k_group,
	};
	int ret = cp_register_fd_kind(p, &ops);

	if (ret)
		return ret;
	ops.name = "h-kind";
	ops.type = 14;
	ops.payload_field = 14;
	ops.size = offsetof(struct cp_fd_ops, group); /* group is past the size given: never read */
	return cp_register_fd_kind(p, &ops);
}

static void t_fd_group_abi(void)
{
	const struct cp_plugin_desc desc = { .abi_major = CP_ABI_MAJOR, .abi_minor = 1, .name = "pg",
					     .init = pg_init };
	struct cp_file f = { .size = sizeof(f), .id = 8, .type = 13, .pid = 1, .fd = 5 };
	const struct cp_plugin *owner = NULL;
	uint64_t key = 1;

	CHECK_EQ(start(&desc), 0);
	trace[0] = '\0';
	CHECK_EQ(plugins_file_group(&f, &key, &owner), 0);
	CHECK_EQ(key, 0x108);
	CHECK(owner && !strcmp(cp_plugin_name((struct cp_plugin *)owner), "pg"));
	CHECK(!strcmp(trace, "pg:group,"));

	/* The 1.1 kind has no group(): no group, nothing called. */
	f.type = 14;
	key = 1;
	trace[0] = '\0';
	CHECK_EQ(plugins_file_group(&f, &key, &owner), 0);
	CHECK_EQ(key, 0);
	CHECK(!strcmp(trace, ""));
	plugins_unload();
}

static void t_hooks_order(void)
{
	struct cp_hook_ctx ctx = { .stage = CP_STAGE_DUMP_INIT };

	start_both();
	CHECK_EQ(plugins_run_hooks(&ctx), 0);
	CHECK(!strcmp(trace, "pa:hook,pb:hook,"));
	CHECK_EQ(ctx.size, sizeof(ctx));
	/* No hooks at a stage: nothing runs, all is well. */
	ctx.stage = CP_STAGE_RESTORE_TASK;
	CHECK_EQ(plugins_run_hooks(&ctx), 0);
	ctx.stage = CP_STAGE__MAX;
	CHECK_EQ(plugins_run_hooks(&ctx), -EINVAL);
	plugins_unload();
}

static void t_hooks_failure_stops(void)
{
	struct cp_hook_ctx ctx = { .stage = CP_STAGE_DUMP_INIT, .pid = 77 };

	start_both();
	beh_a.hook = -EIO;
	CHECK_EQ(plugins_run_hooks(&ctx), -EIO);
	CHECK(!strcmp(trace, "pa:hook,"));
	CHECK_LOG("plugin pa failed at stage dump-init for pid 77");

	/* -ENOTSUP is "not mine": the next one runs. */
	trace[0] = '\0';
	beh_a.hook = -ENOTSUP;
	CHECK_EQ(plugins_run_hooks(&ctx), 0);
	CHECK(!strcmp(trace, "pa:hook,pb:hook,"));
	plugins_unload();
}

static void t_hooks_retry(void)
{
	struct cp_hook_ctx ctx = { .stage = CP_STAGE_DUMP_INIT };

	start_both();
	beh_a.hook = CP_RETRY;
	CHECK_EQ(plugins_run_hooks(&ctx), CP_RETRY);
	CHECK(!strcmp(trace, "pa:hook,"));
	/* Any positive value means "again later". */
	beh_a.hook = 0;
	beh_b.hook = 17;
	CHECK_EQ(plugins_run_hooks(&ctx), CP_RETRY);
	plugins_unload();
}

static void t_hooks_cleanup_stage_runs_all(void)
{
	struct cp_hook_ctx ctx = { .stage = CP_STAGE_POST_DUMP };

	start_both();
	beh_a.hook = -EIO;
	beh_b.hook = -EPERM;
	CHECK_EQ(plugins_run_hooks(&ctx), -EIO);
	CHECK(!strcmp(trace, "pa:hook,pb:hook,"));
	plugins_unload();
}

static void t_hooks_log_prefix(void)
{
	struct cp_hook_ctx ctx = { .stage = CP_STAGE_DUMP_INIT };

	start_both();
	CHECK_EQ(plugins_run_hooks(&ctx), 0);
	CHECK_LOG("): pa: hook of pa runs\n");
	CHECK_LOG("): pb: hook of pb runs\n");
	/* Back in the core: no plugin name. */
	pr_warn("core speaks");
	CHECK_LOG("): core speaks\n");
	plugins_unload();
}

static int pf_init(struct cp_plugin *p)
{
	cp_register_hook(p, CP_STAGE_DUMP_INIT, h_hook);
	cp_register_option(p, "k", CP_OPT_INT, "1", NULL);
	cp_plugin_set_data(p, (void *)"pf", p_free);
	return -EIO;
}

static void t_init_failure_unregisters(void)
{
	const struct cp_plugin_desc desc_f = {
		.abi_major = CP_ABI_MAJOR,
		.name = "pf",
		.init = pf_init,
		.fini = p_fini,
	};
	struct cp_hook_ctx ctx = { .stage = CP_STAGE_DUMP_INIT };

	trace[0] = '\0';
	CHECK_EQ(start(&desc_f), -EIO);
	CHECK_EQ(plugins_count(), 0);
	/* The data is freed, fini() is not called. */
	CHECK(!strcmp(trace, "pf:free,"));
	CHECK_LOG("plugin pf ((built in)): init() failed: Input/output error");
	trace[0] = '\0';
	CHECK_EQ(plugins_run_hooks(&ctx), 0);
	CHECK(!strcmp(trace, ""));
	plugins_unload();
}

static void t_unload_reverse_order(void)
{
	start_both();
	plugins_unload();
	CHECK(!strcmp(trace, "pb:fini,pb:free,pa:fini,pa:free,"));
	CHECK_EQ(plugins_count(), 0);
	CHECK(!plugins_is_loaded("pa"));
	/* Twice is harmless. */
	plugins_unload();
}

static void t_names_and_data(void)
{
	start_both();
	CHECK(!strcmp(plugins_name(0), "pa"));
	CHECK(!strcmp(plugins_name(1), "pb"));
	CHECK(plugins_name(2) == NULL);
	CHECK(plugins_is_loaded("pb"));
	CHECK(!plugins_is_loaded("pz"));
	CHECK(!strcmp((const char *)cp_plugin_get_data(plugin_find("pa")), "pa"));
	/* Replacing the data frees the old one. */
	cp_plugin_set_data(plugin_find("pa"), (void *)"pa2", NULL);
	CHECK(!strcmp(trace, "pa:free,"));
	CHECK(cp_plugin_get_data(NULL) == NULL);
	CHECK(cp_plugin_name(NULL) == NULL);
	plugins_unload();
	CHECK(!strcmp(trace, "pa:free,pb:fini,pb:free,pa:fini,"));
}

static int img_res[6];

static int pi_init(struct cp_plugin *p)
{
	img_res[0] = cp_register_image(p, "pi-%x.img", 0x1234);
	img_res[1] = cp_register_image(p, "a/b.img", 0);
	img_res[2] = cp_register_image(p, "pi-%d.img", 0);
	img_res[3] = cp_register_image(p, "pi-%u-%u.img", 0);
	img_res[4] = cp_register_image(p, "pi-%x.img", 0);
	img_res[5] = cp_register_image(p, "", 0);
	return 0;
}

static void t_images(void)
{
	const struct cp_plugin_desc desc_i = {
		.abi_major = CP_ABI_MAJOR,
		.name = "pi",
		.init = pi_init,
	};
	struct cp_plugin *p;

	CHECK_EQ(start(&desc_i), 0);
	CHECK_EQ(img_res[0], 0);
	CHECK_EQ(img_res[1], -EINVAL);
	CHECK_EQ(img_res[2], -EINVAL);
	CHECK_EQ(img_res[3], -EINVAL);
	CHECK_EQ(img_res[4], -EEXIST);
	CHECK_EQ(img_res[5], -EINVAL);
	p = plugin_find("pi");
	CHECK(p && p->nimages == 1 && p->images[0].magic == 0x1234);
	plugins_unload();
}

static void t_stage_names(void)
{
	CHECK(!strcmp(plugins_stage_name(CP_STAGE_DUMP_INIT), "dump-init"));
	CHECK(!strcmp(plugins_stage_name(CP_STAGE_POST_RESUME), "post-resume"));
	CHECK(!strcmp(plugins_stage_name(CP_STAGE__MAX), "unknown"));
	for (int s = 0; s < CP_STAGE__MAX; s++)
		CHECK(strcmp(plugins_stage_name(s), "unknown") && *plugins_stage_name(s));
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_fd_match_load_order),
		TAP_TEST(t_fd_match_enotsup_chain),
		TAP_TEST(t_fd_uses),
		TAP_TEST(t_fd_kind_validation),
		TAP_TEST(t_fd_kind_same_type_two_plugins),
		TAP_TEST(t_fd_dump_payload),
		TAP_TEST(t_fd_open),
		TAP_TEST(t_fd_open_shared_type),
		TAP_TEST(t_fd_post_open),
		TAP_TEST(t_fd_group_abi),
		TAP_TEST(t_hooks_order),
		TAP_TEST(t_hooks_failure_stops),
		TAP_TEST(t_hooks_retry),
		TAP_TEST(t_hooks_cleanup_stage_runs_all),
		TAP_TEST(t_hooks_log_prefix),
		TAP_TEST(t_init_failure_unregisters),
		TAP_TEST(t_unload_reverse_order),
		TAP_TEST(t_names_and_data),
		TAP_TEST(t_images),
		TAP_TEST(t_stage_names),
	};

	return tap_run(tests, TAP_COUNT(tests), &plugins_tap_opts);
}
