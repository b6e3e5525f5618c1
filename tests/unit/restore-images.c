// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The whole restore (rst_run) on an image set written by hand: one task
 * with a code page that calls exit_group(42) and a stack, no vDSO, no fds.
 * The good set must come back with its pid and exit 42; each broken
 * variant must fail with an error that names the image (or the pid, or
 * the plugin) and leave no process behind.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "fdinfo.pb-c.h"
#include "fown.pb-c.h"
#include "regfile.pb-c.h"

#include "actions.h"
#include "images/file-entry.h"
#include "images/image.h"
#include "log/log.h"
#include "reg-kind.h"
#include "restore/restore.h"

#include "restore-tap.h"

#define CODE 0x5b0000000000ull
#define STACK 0x5b0000010000ull
#define STACK_LEN 0x10000ull
#define PAGE 4096ull

enum variant {
	GOOD,
	PID_IN_USE,
	MISSING_PLUGIN,
	TRUNCATED_CORE,
	PAGE_OUTSIDE,
	MISSING_FILE,
	PARENT,		/* the code page is in the parent images */
	NO_PARENT,	/* ... but there is no parent link */
	THREADS,	/* three threads: each sets a flag, the leader waits for them */
	TID_IN_USE,	/* ... but one tid belongs to a live process */
};

#define NR_THREADS 3
#define THREAD_CODE (CODE + 0x100)

/* exit_group(42) */
static const uint8_t code[] = { 0xbf, 0x2a, 0x00, 0x00, 0x00, 0xb8, 0xe7,
				0x00, 0x00, 0x00, 0x0f, 0x05 };
/* THREADS leader: wait until both flags at STACK are set, then pause() for ever. */
static const uint8_t leader_code[] = {
	0x48, 0xb8, 0x00, 0x00, 0x01, 0x00, 0x00, 0x5b, 0x00, 0x00, /* movabs $STACK,%rax */
	0x8b, 0x18, 0x8b, 0x48, 0x04, 0x85, 0xdb, 0x74, 0xf7, 0x85, 0xc9, 0x74, 0xf3,
	0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7,
};
/* THREADS others: movl $1,(%rax), then pause() for ever. */
static const uint8_t thread_code[] = {
	0xc7, 0x00, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7,
};

static char dir[64];

static pid_t free_pid(void)
{
	char path[32];

	for (pid_t p = 20000 + getpid() % 9000; p < 32000; p++) {
		int k;

		for (k = 0; k < NR_THREADS; k++) {
			snprintf(path, sizeof(path), "/proc/%d", p + k);
			if (kill(p + k, 0) == 0 || errno != ESRCH || !access(path, F_OK))
				break;
		}
		if (k == NR_THREADS)
			return p;
	}
	return -1;
}

static int put(struct img_dir *d, uint32_t magic, const ProtobufCMessage *m, const char *fmt,
	       int pid)
{
	struct image *img;
	int ret = img_open_writef(d, magic, &img, fmt, pid);

	if (ret)
		return ret;
	ret = img_write_msg(img, m);
	return img_close(img) ?: ret;
}

static int put_reg(struct image *img, uint32_t id, const char *name, unsigned int flags)
{
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint8_t buf[512];
	size_t len;

	re.id = id;
	re.flags = flags;
	re.fown = &fown;
	re.name = (char *)name;
	len = reg_file_entry__pack(&re, buf);
	return img_write_file_entry(img, FD_TYPES__REG, id, 3, buf, len);
}

/* pagemap-PID.img with one run, and its pages-N.img (empty without PAGE). */
static int write_pages(struct img_dir *d, pid_t pid, PagemapHead *ph, PagemapEntry *pme,
		       const uint8_t *page)
{
	struct image *img;
	int ret;

	ret = img_open_writef(d, PAGEMAP_MAGIC, &img, "pagemap-%d.img", pid);
	if (ret)
		return ret;
	ret = img_write_msg(img, &ph->base) ?: img_write_msg(img, &pme->base);
	ret = img_close(img) ?: ret;
	ret = ret ?: img_open_writef(d, PAGES_MAGIC, &img, "pages-%u.img", ph->pages_id);
	if (ret)
		return ret;
	if (page)
		ret = img_write_raw(img, page, PAGE);
	return img_close(img) ?: ret;
}

static int write_images(pid_t pid, enum variant v)
{
	static uint32_t st[32], xmm[64];
	static uint64_t auxv[2];
	static char *plugins[] = { "nosuch-plugin" };
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	PluginsEntry pe = PLUGINS_ENTRY__INIT;
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	CoreEntry core = CORE_ENTRY__INIT;
	ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
	UserX86RegsEntry gp = USER_X86_REGS_ENTRY__INIT;
	UserX86FpregsEntry fp = USER_X86_FPREGS_ENTRY__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
	MmEntry mm = MM_ENTRY__INIT;
	VmaEntry vc = VMA_ENTRY__INIT, vs = VMA_ENTRY__INIT, vf = VMA_ENTRY__INIT;
	VmaEntry *vmas[3] = { &vc, &vs, &vf };
	PagemapHead ph = PAGEMAP_HEAD__INIT;
	PagemapEntry pme = PAGEMAP_ENTRY__INIT;
	FsEntry fs = FS_ENTRY__INIT;
	struct img_dir *d;
	struct image *img;
	uint8_t page[PAGE];
	char path[128];
	int ret;

	strcpy(dir, "/tmp/restore-images-XXXXXX");
	if (!mkdtemp(dir) || img_dir_open(AT_FDCWD, dir, &d))
		return -1;

	inv.img_version = CRTOOLS_IMAGES_V1_1;
	inv.has_fdinfo_per_id = inv.fdinfo_per_id = true;
	if (v == MISSING_PLUGIN) {
		pe.n_plugins = 1;
		pe.plugins = plugins;
		inv.plugins_entry = &pe;
	}
	ret = img_open_write(d, "inventory.img", INVENTORY_MAGIC, &img);
	ret = ret ?: img_write_msg(img, &inv.base);
	ret = img_close(img) ?: ret;

	ps.pid = ps.pgid = ps.sid = (uint32_t)pid;
	ret = ret ?: put(d, PSTREE_MAGIC, &ps.base, "pstree.img%.0d", 0);

	gp.ip = CODE;
	gp.sp = STACK + STACK_LEN - 64;
	gp.cs = 0x33;
	gp.ss = 0x2b;
	gp.flags = 0x202;
	fp.cwd = 0x37f;
	fp.mxcsr = 0x1f80;
	fp.mxcsr_mask = 0xffff;
	fp.n_st_space = 32;
	fp.st_space = st;
	fp.n_xmm_space = 64;
	fp.xmm_space = xmm;
	ti.gpregs = &gp;
	ti.fpregs = &fp;
	tc.task_state = 1;
	tc.comm = "handmade";
	core.mtype = CORE_ENTRY__MARCH__X86_64;
	core.thread_info = &ti;
	core.tc = &tc;
	core.thread_core = &th;
	if (v == THREADS || v == TID_IN_USE) {
		static uint32_t tids[NR_THREADS];

		for (int i = 0; i < NR_THREADS; i++)
			tids[i] = (uint32_t)(pid + i);
		if (v == TID_IN_USE)
			tids[NR_THREADS - 1] = (uint32_t)getpid();
		ps.n_threads = NR_THREADS;
		ps.threads = tids;
		ret = ret ?: put(d, PSTREE_MAGIC, &ps.base, "pstree.img%.0d", 0);
		for (int i = 1; i < NR_THREADS && !ret; i++) {
			UserX86RegsEntry tgp = gp;
			ThreadInfoX86 tti = ti;
			ThreadCoreEntry tth = THREAD_CORE_ENTRY__INIT;
			CoreEntry tcore = CORE_ENTRY__INIT;
			char comm[16];

			tgp.ip = THREAD_CODE;
			tgp.ax = STACK + 4 * (uint64_t)(i - 1);
			tgp.sp = STACK + STACK_LEN - 1024 * (uint64_t)i;
			tti.gpregs = &tgp;
			snprintf(comm, sizeof(comm), "thr%d", i);
			tth.comm = comm;
			tcore.mtype = CORE_ENTRY__MARCH__X86_64;
			tcore.thread_info = &tti;
			tcore.thread_core = &tth;
			ret = put(d, CORE_MAGIC, &tcore.base, "core-%d.img", (int)tids[i]);
		}
	}
	ret = ret ?: put(d, CORE_MAGIC, &core.base, "core-%d.img", pid);
	if (!ret && v == TRUNCATED_CORE) {
		struct stat sb;

		snprintf(path, sizeof(path), "%s/core-%d.img", dir, pid);
		ret = stat(path, &sb) ?: truncate(path, sb.st_size / 2);
	}

	ids.vm_id = ids.files_id = ids.fs_id = ids.sighand_id = 1;
	ret = ret ?: put(d, IDS_MAGIC, &ids.base, "ids-%d.img", pid);

	vc.start = CODE;
	vc.end = CODE + PAGE;
	vc.prot = PROT_READ | PROT_EXEC;
	vc.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	vc.status = 1 | (1u << 9);
	vc.fd = -1;
	vs.start = STACK;
	vs.end = STACK + STACK_LEN;
	vs.prot = PROT_READ | PROT_WRITE;
	vs.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	vs.status = 1 | (1u << 9);
	vs.fd = -1;
	vf.start = STACK + STACK_LEN + PAGE;
	vf.end = vf.start + PAGE;
	vf.prot = PROT_READ;
	vf.flags = MAP_PRIVATE;
	vf.status = 1 | (1u << 6);
	vf.shmid = 2;
	vf.fd = -1;
	mm.mm_start_code = CODE;
	mm.mm_end_code = CODE + PAGE;
	mm.mm_start_data = mm.mm_end_data = STACK;
	mm.mm_start_brk = mm.mm_brk = STACK + PAGE;
	mm.mm_start_stack = STACK + STACK_LEN - 64;
	mm.mm_arg_start = mm.mm_arg_end = mm.mm_env_start = mm.mm_env_end = STACK + 2 * PAGE;
	mm.n_mm_saved_auxv = 2;
	mm.mm_saved_auxv = auxv;
	mm.n_vmas = v == MISSING_FILE ? 3 : 2;
	mm.vmas = vmas;
	ret = ret ?: put(d, MM_MAGIC, &mm.base, "mm-%d.img", pid);

	ph.pages_id = 1;
	pme.vaddr = v == PAGE_OUTSIDE ? 0x5c0000000000ull : CODE;
	pme.has_nr_pages = true;
	pme.nr_pages = 1;
	pme.has_flags = true;
	pme.flags = 4;
	memset(page, 0xcc, sizeof(page));
	if (v == THREADS || v == TID_IN_USE) {
		memcpy(page, leader_code, sizeof(leader_code));
		memcpy(page + (THREAD_CODE - CODE), thread_code, sizeof(thread_code));
	} else {
		memcpy(page, code, sizeof(code));
	}
	ret = ret ?: write_pages(d, pid, &ph, &pme, page);
	if (!ret && (v == PARENT || v == NO_PARENT)) {
		/* The page moves to the parent; this dump says "unchanged". */
		struct img_dir *pd;

		snprintf(path, sizeof(path), "%s/parent-dump", dir);
		ret = mkdir(path, 0700) ?: img_dir_open(AT_FDCWD, path, &pd);
		if (!ret) {
			ret = write_pages(pd, pid, &ph, &pme, page);
			img_dir_close(pd);
		}
		snprintf(path, sizeof(path), "%s/parent", dir);
		if (!ret && v == PARENT)
			ret = symlink("parent-dump", path);
		ph.pages_id = 2;
		pme.flags = 1; /* PE_PARENT */
		ret = ret ?: write_pages(d, pid, &ph, &pme, NULL);
	}

	fs.cwd_id = fs.root_id = 1;
	ret = ret ?: put(d, FS_MAGIC, &fs.base, "fs-%d.img", pid);
	ret = ret ?: img_open_write(d, "files.img", FILES_MAGIC, &img);
	if (!ret) {
		ret = put_reg(img, 1, "/", O_RDONLY | O_DIRECTORY) ?:
			      put_reg(img, 2, "/nonexistent/restore-images", O_RDONLY);
		ret = img_close(img) ?: ret;
	}
	img_dir_close(d);
	return ret;
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
}

static char pidfile[64];

/* Restore variant V; return rst_run's result and the restored pid's exit. */
static int run(enum variant v, pid_t *pid, struct action_result *res)
{
	struct rst_opts o = { .detached = v == THREADS };
	int ret;

	*pid = v == PID_IN_USE ? getpid() : free_pid();
	CHECK(*pid > 0);
	CHECK_EQ(write_images(*pid, v), 0);
	memset(res, 0, sizeof(*res));
	o.images_dir = dir;
	snprintf(pidfile, sizeof(pidfile), "/tmp/restore-images-%d.pid", getpid());
	o.pidfile = pidfile;
	err_first_reset();
	ret = rst_run(&o, res);
	cleanup();
	return ret;
}

static bool first_error_has(const char *s)
{
	const char *m = err_first_message();

	if (!m || !strstr(m, s)) {
		printf("#   first error: %s (want \"%s\")\n", m ? m : "(none)", s);
		return false;
	}
	return true;
}

static void gone(pid_t pid)
{
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
}

static void good(void)
{
	struct action_result res;
	pid_t pid;

	CHECK_EQ(run(GOOD, &pid, &res), 0);
	CHECK_EQ(res.restored_pid, pid);
	CHECK_EQ(res.exit_status, 42);
	CHECK(access(pidfile, F_OK) == 0);
	unlink(pidfile);
	gone(pid);
}

/* A failure injected at each stage leaves no task and no pidfile. */
static void faults(void)
{
	static const char *const points[] = {
		"images", "fork", "stage1", "restorer", "resume", "pidfile", "detach",
	};
	struct action_result res;
	char want[64];
	pid_t pid;

	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		printf("# fault at %s\n", points[i]);
		setenv("CRIU_RESTORE_FAULT", points[i], 1);
		CHECK(run(GOOD, &pid, &res) < 0);
		snprintf(want, sizeof(want), "restore point '%s'", points[i]);
		if (strcmp(points[i], "restorer"))
			CHECK(first_error_has(want));
		else
			CHECK(first_error_has("check its arguments"));
		gone(pid);
		CHECK(access(pidfile, F_OK) < 0);
	}
	unsetenv("CRIU_RESTORE_FAULT");
}

static void pid_in_use(void)
{
	struct action_result res;
	pid_t pid;

	CHECK_EQ(run(PID_IN_USE, &pid, &res), -EEXIST);
	CHECK(first_error_has("is in use"));
	CHECK(err_first_remedy() != NULL);
}

static void missing_plugin(void)
{
	struct action_result res;
	pid_t pid;

	CHECK_EQ(run(MISSING_PLUGIN, &pid, &res), -ENOENT);
	CHECK(first_error_has("nosuch-plugin"));
	gone(pid);
}

static void truncated_core(void)
{
	struct action_result res;
	char name[32];
	pid_t pid;

	CHECK(run(TRUNCATED_CORE, &pid, &res) < 0);
	snprintf(name, sizeof(name), "core-%d.img", pid);
	CHECK(first_error_has(name));
	gone(pid);
}

static void page_outside(void)
{
	struct action_result res;
	char name[48];
	pid_t pid;

	CHECK_EQ(run(PAGE_OUTSIDE, &pid, &res), -EINVAL);
	snprintf(name, sizeof(name), "pagemap-%d.img: entry 2", pid);
	CHECK(first_error_has(name));
	gone(pid);
}

/* Fails in stage 1, in the new task: the error must reach criu and the task go. */
static void missing_file(void)
{
	struct action_result res;
	pid_t pid;

	CHECK_EQ(run(MISSING_FILE, &pid, &res), -ENOENT);
	CHECK(first_error_has("/nonexistent/restore-images"));
	gone(pid);
}

static void parent_pages(void)
{
	struct action_result res;
	pid_t pid;

	CHECK_EQ(run(PARENT, &pid, &res), 0);
	CHECK_EQ(res.exit_status, 42);
	gone(pid);
}

static void no_parent(void)
{
	struct action_result res;
	pid_t pid;

	CHECK_EQ(run(NO_PARENT, &pid, &res), -ENOENT);
	CHECK(first_error_has("no parent link"));
	gone(pid);
}

static int read_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return 0;
}

/* Three threads come back with their tids and names, and all of them run. */
static void threads(void)
{
	struct action_result res;
	char comm[32], want[16];
	uint32_t flags[2] = { 0, 0 };
	struct iovec l = { flags, sizeof(flags) }, r = { (void *)(uintptr_t)STACK, sizeof(flags) };
	pid_t pid;
	int status;

	CHECK_EQ(run(THREADS, &pid, &res), 0);
	CHECK_EQ(res.restored_pid, pid);
	for (int i = 0; i < NR_THREADS; i++) {
		CHECK_EQ(read_comm(pid, pid + i, comm, sizeof(comm)), 0);
		snprintf(want, sizeof(want), i ? "thr%d" : "handmade", i);
		CHECK(!strcmp(comm, want));
	}
	for (int n = 0; n < 100 && !(flags[0] && flags[1]); n++) {
		usleep(10000);
		CHECK(process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)sizeof(flags));
	}
	CHECK_EQ(flags[0], 1);
	CHECK_EQ(flags[1], 1);
	unlink(pidfile);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
}

static void tid_in_use(void)
{
	struct action_result res;
	pid_t pid;

	CHECK_EQ(run(TID_IN_USE, &pid, &res), -EEXIST);
	CHECK(first_error_has("tid is in use"));
	gone(pid);
	gone(pid + 1);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(good),	      TAP_TEST(pid_in_use),	  TAP_TEST(missing_plugin),
		TAP_TEST(truncated_core), TAP_TEST(page_outside), TAP_TEST(missing_file),
		TAP_TEST(parent_pages),   TAP_TEST(no_parent),	  TAP_TEST(faults),
		TAP_TEST(threads),	      TAP_TEST(tid_in_use),
	};

	/* The core has its exe, cwd, root and mapped files saved by a plugin kind. */
	if (reg_kind_start())
		return 1;
	return tap_run(tests, TAP_COUNT(tests), &restore_tap_opts);
}
