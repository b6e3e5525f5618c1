// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One source for every test plugin of the loader tests, built once per
 * variant (see tests/unit/plugins.inc):
 *   TP_NAME       the name in the descriptor (the file is TP_FILE.so)
 *   TP_OTHER_MAJOR  claim the next ABI major
 *   TP_NEWER_MINOR  claim the next ABI minor
 *   TP_NO_DESC    export no descriptor at all
 *   TP_NO_INIT    a descriptor without init()
 *   TP_INIT_FAIL  init() registers things, then fails with -EIO
 *   TP_FD_TYPE    the FileEntry type of its fd kind (default 100)
 * The good variant registers one key of each type, an image, an fd kind
 * and a hook that logs what it reads, so the test can check all of it
 * through the log.
 */
#include <errno.h>

#include <criu/plugin.h>

/* Not every variant uses every function. */
#define TP_UNUSED __attribute__((unused))

#ifdef TP_OTHER_MAJOR
#define TP_ABI_MAJOR (CP_ABI_MAJOR + 1)
#else
#define TP_ABI_MAJOR CP_ABI_MAJOR
#endif
#ifdef TP_NEWER_MINOR
#define TP_ABI_MINOR (CP_ABI_MINOR + 1)
#else
#define TP_ABI_MINOR CP_ABI_MINOR
#endif

static TP_UNUSED int tp_dump_init(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	const char *mode = NULL, *item = NULL, *libdir = NULL;
	long long count = -1;
	bool flag = false;
	int nitems;

	cp_plugin_opt_bool(p, "flag", &flag);
	cp_plugin_opt_int(p, "count", &count);
	cp_plugin_opt_string(p, "mode", &mode);
	nitems = cp_plugin_opt_list(p, "item", 0, NULL);
	if (nitems > 0)
		cp_plugin_opt_list(p, "item", nitems - 1, &item);
	cp_opt_string("libdir", &libdir);
	pr_warn("hook stage %d: flag=%d count=%lld mode=%s items=%d last=%s data=%s", ctx->stage, flag, count,
		mode ? mode : "(unset)", nitems, item ? item : "(none)", (const char *)cp_plugin_get_data(p));
	return 0;
}

static TP_UNUSED int tp_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	return -ENOTSUP;
}

static TP_UNUSED int tp_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	return -ENOTSUP;
}

static TP_UNUSED int tp_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	return -ENOTSUP;
}

/* FileEntry type 100 and up: far from CRIU's fd_types, so no real plugin clashes. */
#ifndef TP_FD_TYPE
#define TP_FD_TYPE 100
#endif
static TP_UNUSED const struct cp_fd_ops tp_fd_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "test-kind",
	.type = TP_FD_TYPE,
	.payload_field = 100,
	.match = tp_match,
	.dump = tp_dump,
	.open = tp_open,
};

static TP_UNUSED int tp_init(struct cp_plugin *p)
{
	int ret;

	ret = cp_register_option(p, "flag", CP_OPT_BOOL, "no", "a boolean");
	if (!ret)
		ret = cp_register_option(p, "count", CP_OPT_INT, "7", "an integer");
	if (!ret)
		ret = cp_register_option(p, "mode", CP_OPT_STRING, NULL, "a string");
	if (!ret)
		ret = cp_register_option(p, "item", CP_OPT_LIST, NULL, "a list");
	if (!ret)
		ret = cp_register_image(p, TP_NAME "-%x.img", 0x12345678);
	if (!ret)
		ret = cp_register_fd_kind(p, &tp_fd_ops);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_DUMP_INIT, tp_dump_init);
	if (ret)
		return ret;
	/* A string literal: no free function needed. */
	cp_plugin_set_data(p, (void *)"tp-data", NULL);
	pr_info("init done");
#ifdef TP_INIT_FAIL
	/* Everything registered above must be dropped by the core. */
	pr_err("init fails on purpose");
	return -EIO;
#else
	return 0;
#endif
}

static TP_UNUSED void tp_fini(struct cp_plugin *p)
{
	pr_warn("fini called");
}

#if defined(TP_NO_DESC)
/* Something to load, but no descriptor. */
CP_EXPORT int tp_not_a_descriptor;
#elif TP_ABI_MAJOR == CP_ABI_MAJOR && TP_ABI_MINOR == CP_ABI_MINOR && !defined(TP_NO_INIT)
CP_PLUGIN_DEFINE(TP_NAME, "1.2.3", "a test plugin", tp_init, tp_fini);
#else
/* What CP_PLUGIN_DEFINE writes, with the fields under test changed. */
#ifdef TP_NO_INIT
#define TP_INIT_FN NULL
#else
#define TP_INIT_FN tp_init
#endif
CP_EXPORT extern const struct cp_plugin_desc criu_plugin_descriptor;
const struct cp_plugin_desc criu_plugin_descriptor = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.name = TP_NAME,
	.version = "1.2.3",
	.description = "a test plugin",
	.init = TP_INIT_FN,
	.fini = tp_fini,
};
#endif
