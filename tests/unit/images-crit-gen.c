// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Write a small but plausible set of images of one x86-64 task (pid 1)
 * into DIR, through the image layer, for images-crit.sh to decode with
 * Debian's crit. With --magics, print our magic table instead ("NAME
 * 0xVALUE" lines) so the script can compare it with crit's.
 *
 * usage: images-crit-gen DIR | images-crit-gen --magics
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "images/file-entry.h"
#include "images/image.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"

#define PID 1

static int write_one(struct img_dir *dir, const char *name, uint32_t magic, const ProtobufCMessage *m)
{
	struct image *img;
	int ret;

	ret = img_open_write(dir, name, magic, &img);
	if (ret)
		return ret;
	ret = img_write_msg(img, m);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;

static void init_ids(void)
{
	ids.vm_id = 1;
	ids.files_id = 2;
	ids.fs_id = 3;
	ids.sighand_id = 4;
	ids.has_pid_ns_id = ids.has_net_ns_id = ids.has_ipc_ns_id = true;
	ids.has_uts_ns_id = ids.has_mnt_ns_id = ids.has_user_ns_id = true;
	ids.has_cgroup_ns_id = ids.has_time_ns_id = true;
	ids.pid_ns_id = 5;
	ids.net_ns_id = 6;
	ids.ipc_ns_id = 7;
	ids.uts_ns_id = 8;
	ids.mnt_ns_id = 9;
	ids.user_ns_id = 10;
	ids.cgroup_ns_id = 11;
	ids.time_ns_id = 12;
}

static int gen_inventory(struct img_dir *dir)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	PluginsEntry pl = PLUGINS_ENTRY__INIT;
	char *names[] = { "files" };

	pl.n_plugins = 1;
	pl.plugins = names;
	inv.img_version = CRTOOLS_IMAGES_V1_1;
	inv.has_fdinfo_per_id = inv.fdinfo_per_id = true;
	inv.root_ids = &ids;
	inv.has_ns_per_id = inv.ns_per_id = true;
	inv.has_root_cg_set = true;
	inv.root_cg_set = 1;
	inv.has_lsmtype = true;
	inv.lsmtype = LSMTYPE__NO_LSM;
	inv.has_dump_uptime = true;
	inv.dump_uptime = 123456789;
	inv.has_network_lock_method = true;
	inv.network_lock_method = 1;
	inv.plugins_entry = &pl;
	inv.dump_criu_run_id = "0a1b2c3d-run";
	return write_one(dir, "inventory.img", INVENTORY_MAGIC, &inv.base);
}

static int gen_pstree(struct img_dir *dir)
{
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	uint32_t threads[] = { PID, 2 };

	ps.pid = PID;
	ps.ppid = 0;
	ps.pgid = PID;
	ps.sid = PID;
	ps.n_threads = 2;
	ps.threads = threads;
	return write_one(dir, "pstree.img", PSTREE_MAGIC, &ps.base);
}

static int gen_core(struct img_dir *dir)
{
	UserX86RegsEntry regs = USER_X86_REGS_ENTRY__INIT;
	UserX86XsaveEntry xsave = USER_X86_XSAVE_ENTRY__INIT;
	UserX86FpregsEntry fp = USER_X86_FPREGS_ENTRY__INIT;
	UserDescT tls[3], *tlsp[3];
	ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
	ItimerEntry itr = ITIMER_ENTRY__INIT;
	TaskTimersEntry timers = TASK_TIMERS_ENTRY__INIT;
	RlimitEntry rl[16], *rlp[16];
	TaskRlimitsEntry rlims = TASK_RLIMITS_ENTRY__INIT;
	SaEntry sa[2], *sap[2];
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	ThreadSasEntry sas = THREAD_SAS_ENTRY__INIT;
	CredsEntry cr = CREDS_ENTRY__INIT;
	RseqEntry rseq = RSEQ_ENTRY__INIT;
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	CoreEntry ce = CORE_ENTRY__INIT;
	uint32_t st[32] = { 0 }, xmm[64] = { 0 }, pad[24] = { 0 }, ymmh[64] = { 0 };
	uint32_t caps[2] = { 0xffffffff, 0x1ff }, groups[] = { 1000, 27 };
	int i;

	regs.r15 = 0xf15;
	regs.bp = 0x7ffd1000;
	regs.ax = 0xfffffffffffffdfc; /* -ERESTART_RESTARTBLOCK */
	regs.orig_ax = 230;	      /* clock_nanosleep */
	regs.ip = 0x7f0000401136;
	regs.cs = 0x33;
	regs.flags = 0x246;
	regs.sp = 0x7ffd0ff8;
	regs.ss = 0x2b;
	regs.fs_base = 0x7f0000600740;
	regs.has_mode = true;
	regs.mode = USER_X86_REGS_MODE__NATIVE;

	for (i = 0; i < 64; i++)
		xmm[i] = ymmh[i] = i;
	xsave.xstate_bv = 7;
	xsave.n_ymmh_space = 64;
	xsave.ymmh_space = ymmh;
	fp.cwd = 0x37f;
	fp.mxcsr = 0x1f80;
	fp.mxcsr_mask = 0xffff;
	fp.n_st_space = 32;
	fp.st_space = st;
	fp.n_xmm_space = 64;
	fp.xmm_space = xmm;
	fp.n_padding = 24;
	fp.padding = pad;
	fp.xsave = &xsave;

	for (i = 0; i < 3; i++) {
		user_desc_t__init(&tls[i]);
		tls[i].entry_number = 12 + i;
		tls[i].read_exec_only = true;
		tls[i].seg_not_present = true;
		tlsp[i] = &tls[i];
	}
	ti.clear_tid_addr = 0x7f0000600a10;
	ti.gpregs = &regs;
	ti.fpregs = &fp;
	ti.n_tls = 3;
	ti.tls = tlsp;

	timers.real = timers.virt = timers.prof = &itr;
	for (i = 0; i < 16; i++) {
		rlimit_entry__init(&rl[i]);
		rl[i].cur = rl[i].max = UINT64_MAX;
		rlp[i] = &rl[i];
	}
	rl[7].cur = 1024; /* RLIMIT_NOFILE */
	rl[7].max = 524288;
	rlims.n_rlimits = 16;
	rlims.rlimits = rlp;
	for (i = 0; i < 2; i++) {
		sa_entry__init(&sa[i]);
		sap[i] = &sa[i];
	}
	sa[1].sigaction = 0x7f0000401200;
	sa[1].flags = 0x04000000; /* SA_RESTORER */
	sa[1].restorer = 0x7f0000402000;

	tc.task_state = 1; /* alive */
	tc.flags = 0x400000;
	tc.comm = "sleep";
	tc.timers = &timers;
	tc.rlimits = &rlims;
	tc.has_cg_set = true;
	tc.cg_set = 1;
	tc.has_loginuid = true;
	tc.loginuid = 1000;
	tc.has_oom_score_adj = true;
	tc.n_sigactions = 2;
	tc.sigactions = sap;
	tc.has_child_subreaper = true;

	sas.ss_flags = 2; /* SS_DISABLE */
	cr.uid = cr.gid = cr.euid = cr.egid = cr.suid = cr.sgid = cr.fsuid = cr.fsgid = 1000;
	cr.n_cap_inh = cr.n_cap_prm = cr.n_cap_eff = 0;
	cr.n_cap_bnd = 2;
	cr.cap_bnd = caps;
	cr.n_groups = 2;
	cr.groups = groups;
	rseq.rseq_abi_pointer = 0x7f0000600fe0;
	rseq.rseq_abi_size = 32;
	rseq.signature = 0x53053053;

	th.futex_rla = 0x7f0000600a20;
	th.futex_rla_len = 24;
	th.has_sched_nice = th.has_sched_policy = th.has_sched_prio = true;
	th.has_blk_sigset = true;
	th.sas = &sas;
	th.creds = &cr;
	th.has_seccomp_mode = true;
	th.seccomp_mode = SECCOMP_MODE__disabled;
	th.comm = "sleep";
	th.rseq_entry = &rseq;

	ce.mtype = CORE_ENTRY__MARCH__X86_64;
	ce.thread_info = &ti;
	ce.tc = &tc;
	ce.ids = &ids;
	ce.thread_core = &th;
	return write_one(dir, "core-1.img", CORE_MAGIC, &ce.base);
}

static int gen_mm(struct img_dir *dir)
{
	static const struct {
		uint64_t start, end;
		uint32_t prot, flags, status;
		int64_t fd;
	} v[] = {
		/* CRIU's status bits: REGULAR 0x1, STACK 0x2, VDSO 0x8, HEAP 0x20, FILE_PRIVATE 0x40, ANON_PRIVATE 0x200 */
		{ 0x400000, 0x402000, 5, 0x02, 0x1 | 0x40, -1 },	     /* text */
		{ 0x1000000, 0x1021000, 3, 0x22, 0x1 | 0x20 | 0x200, -1 },   /* heap */
		{ 0x7ffd0000, 0x7ffd2000, 3, 0x122, 0x1 | 0x2 | 0x200, -1 }, /* stack */
		{ 0x7ffd3000, 0x7ffd5000, 5, 0x22, 0x1 | 0x8 | 0x200, -1 },  /* vdso */
	};
	VmaEntry vma[4], *vp[4];
	MmEntry mm = MM_ENTRY__INIT;
	uint64_t auxv[] = { 33, 0x7ffd3000, 6, 4096, 0, 0 };
	int i;

	for (i = 0; i < 4; i++) {
		vma_entry__init(&vma[i]);
		vma[i].start = v[i].start;
		vma[i].end = v[i].end;
		vma[i].prot = v[i].prot;
		vma[i].flags = v[i].flags;
		vma[i].status = v[i].status;
		vma[i].fd = v[i].fd;
		vp[i] = &vma[i];
	}
	vma[0].shmid = 7; /* the executable's file id */
	mm.mm_start_code = 0x400000;
	mm.mm_end_code = 0x402000;
	mm.mm_start_data = 0x403000;
	mm.mm_end_data = 0x404000;
	mm.mm_start_stack = 0x7ffd1ff0;
	mm.mm_start_brk = 0x1000000;
	mm.mm_brk = 0x1021000;
	mm.mm_arg_start = 0x7ffd1f00;
	mm.mm_arg_end = 0x7ffd1f10;
	mm.mm_env_start = 0x7ffd1f10;
	mm.mm_env_end = 0x7ffd1fe0;
	mm.exe_file_id = 7;
	mm.n_mm_saved_auxv = 6;
	mm.mm_saved_auxv = auxv;
	mm.n_vmas = 4;
	mm.vmas = vp;
	mm.has_dumpable = true;
	mm.dumpable = 1;
	return write_one(dir, "mm-1.img", MM_MAGIC, &mm.base);
}

static int gen_pagemap(struct img_dir *dir)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	static const uint8_t page[4096];
	struct image *img;
	int ret, i;

	ret = img_open_write(dir, "pagemap-1.img", PAGEMAP_MAGIC, &img);
	if (ret)
		return ret;
	head.pages_id = 1;
	ret = img_write_msg(img, &head.base);
	pe.vaddr = 0x1000000;
	pe.compat_nr_pages = 3;
	pe.has_nr_pages = true;
	pe.nr_pages = 3;
	pe.has_flags = true;
	pe.flags = 4; /* PE_PRESENT */
	if (!ret)
		ret = img_write_msg(img, &pe.base);
	pe.vaddr = 0x7ffd1000;
	pe.compat_nr_pages = pe.nr_pages = 1;
	if (!ret)
		ret = img_write_msg(img, &pe.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	if (ret)
		return ret;

	ret = img_open_write(dir, "pages-1.img", PAGES_MAGIC, &img);
	for (i = 0; !ret && i < 4; i++)
		ret = img_write_raw(img, page, sizeof(page));
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static int gen_files(struct img_dir *dir)
{
	FdinfoEntry fdi[3];
	FownEntry fown = FOWN_ENTRY__INIT;
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	PipeEntry pipe = PIPE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	uint8_t buf[256];
	struct image *img;
	size_t len;
	int ret, i;

	/* fdinfo-2.img: fd 0 and 1 on a pipe and a file, 2 on the same file. */
	ret = img_open_write(dir, "fdinfo-2.img", FDINFO_MAGIC, &img);
	if (ret)
		return ret;
	for (i = 0; i < 3; i++) {
		fdinfo_entry__init(&fdi[i]);
		fdi[i].fd = i;
		fdi[i].id = i == 0 ? 3 : 1;
		fdi[i].type = i == 0 ? FD_TYPES__PIPE : FD_TYPES__REG;
		fdi[i].flags = i == 2 ? 02000000 : 0;
		if (!ret)
			ret = img_write_msg(img, &fdi[i].base);
	}
	if (img_close(img) && !ret)
		ret = -EIO;
	if (ret)
		return ret;

	ret = img_open_write(dir, "files.img", FILES_MAGIC, &img);
	if (ret)
		return ret;
	/* id 1 through the opaque path, as the core does for plugins. */
	reg.id = 1;
	reg.flags = 02 | 02000; /* O_RDWR | O_APPEND */
	reg.pos = 4096;
	reg.fown = &fown;
	reg.name = "/var/log/app.log";
	reg.has_mnt_id = true;
	reg.mnt_id = 25;
	reg.has_size = true;
	reg.size = 8192;
	reg.has_mode = true;
	reg.mode = 0100644;
	len = reg_file_entry__pack(&reg, buf);
	ret = img_write_file_entry(img, FD_TYPES__REG, 1, 3, buf, len);
	/* id 7, the executable, as a whole file_entry message. */
	reg.id = 7;
	reg.flags = 0;
	reg.pos = 0;
	reg.name = "/usr/bin/sleep";
	reg.size = 35336;
	reg.mode = 0100755;
	fe.type = FD_TYPES__REG;
	fe.id = 7;
	fe.reg = &reg;
	if (!ret)
		ret = img_write_msg(img, &fe.base);
	/* id 3, a pipe, opaque again. */
	pipe.id = 3;
	pipe.pipe_id = 424242;
	pipe.flags = 0;
	pipe.fown = &fown;
	len = pipe_entry__pack(&pipe, buf);
	if (!ret)
		ret = img_write_file_entry(img, FD_TYPES__PIPE, 3, 18, buf, len);
	/* ids 4 and 5: cwd and root. */
	fe.id = reg.id = 4;
	reg.name = "/home/user";
	reg.flags = 0200000; /* O_DIRECTORY */
	reg.mode = 040755;
	reg.has_size = false;
	if (!ret)
		ret = img_write_msg(img, &fe.base);
	fe.id = reg.id = 5;
	reg.name = "/";
	if (!ret)
		ret = img_write_msg(img, &fe.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static int gen_fs(struct img_dir *dir)
{
	FsEntry fs = FS_ENTRY__INIT;

	fs.cwd_id = 4;
	fs.root_id = 5;
	fs.has_umask = true;
	fs.umask = 022;
	return write_one(dir, "fs-1.img", FS_MAGIC, &fs.base);
}

static int gen_stats(struct img_dir *dir)
{
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;
	StatsEntry st = STATS_ENTRY__INIT;

	d.freezing_time = 1200;
	d.frozen_time = 35000;
	d.memdump_time = 900;
	d.memwrite_time = 400;
	d.pages_scanned = 545;
	d.pages_skipped_parent = 0;
	d.pages_written = 4;
	d.pages_lazy = 0;
	st.dump = &d;
	return write_one(dir, "stats-dump", STATS_MAGIC, &st.base);
}

int main(int argc, char **argv)
{
	struct img_dir *dir;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--magics")) {
		const char *name;
		uint32_t value;
		unsigned int i;

		for (i = 0; !img_magic_at(i, &name, &value); i++)
			printf("%s 0x%08x\n", name, value);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR | --magics\n", argv[0]);
		return 2;
	}
	ret = img_dir_open(AT_FDCWD, argv[1], &dir);
	if (ret)
		return 1;
	init_ids();
	ret = gen_inventory(dir);
	if (!ret)
		ret = gen_pstree(dir);
	if (!ret)
		ret = gen_core(dir);
	if (!ret)
		ret = write_one(dir, "ids-1.img", IDS_MAGIC, &ids.base);
	if (!ret)
		ret = gen_mm(dir);
	if (!ret)
		ret = gen_pagemap(dir);
	if (!ret)
		ret = gen_files(dir);
	if (!ret)
		ret = gen_fs(dir);
	if (!ret)
		ret = gen_stats(dir);
	img_dir_close(dir);
	if (ret) {
		fprintf(stderr, "images-crit-gen: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
