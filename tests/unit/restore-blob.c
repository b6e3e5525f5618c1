// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restorer machinery without images: a forked child plays stage 1 by
 * hand (bootstrap region, args, sigframe built by core/restore), jumps
 * into the real restorer blob, which unmaps everything, maps a code and a
 * data VMA, fills them from a pages file and sigreturns; the parent
 * catches it with the real catch code (rst_wait_ready, rst_finish_task)
 * and checks the registers, the FPU/AVX state, the memory and that the
 * bootstrap region is gone, then lets it run its code to exit(42).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <pie/kabi.h>

#include "log/log.h"
#include "restore/bootstrap.h"
#include "restore/restore.h"
#include "restore/sigframe.h"

#include "restore-tap.h"

#define CODE_ADDR 0x5a0000000000ull
#define DATA_ADDR 0x5a0000100000ull
#define DATA_PAGES 4
#define PAGE 4096ull
#define DATA_TEXT "restored data, page 0"
#define XMM0_LO 0x1122334455667788ull
#define YMM0_HI 0x99aabbccddeeff00ull

/* cmp $0x1234,%rax; jne 1f; exit_group(42); 1: exit_group(1) */
static const uint8_t code[] = {
	0x48, 0x3d, 0x34, 0x12, 0x00, 0x00, 0x75, 0x0c, 0xbf, 0x2a, 0x00, 0x00, 0x00,
	0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x01, 0x00, 0x00, 0x00, 0xb8,
	0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

static bool has_avx(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 28));
}

/* pages file: page 0 = code, page 1 = data page 0. */
static int make_pages(void)
{
	char path[] = "/tmp/restore-blob-XXXXXX";
	uint8_t page[PAGE];
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	memset(page, 0xcc, sizeof(page));
	memcpy(page, code, sizeof(code));
	if (write(fd, page, PAGE) != (ssize_t)PAGE)
		return -1;
	memset(page, 0, sizeof(page));
	strcpy((char *)page, DATA_TEXT);
	if (write(fd, page, PAGE) != (ssize_t)PAGE)
		return -1;
	return fd;
}

static void report(int fd, const struct rst_report *r)
{
	if (write(fd, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		_exit(3);
}

/* Stage 1 by hand. SHORT_PAGES makes the second run read past the file end. */
static void child(int go_rd, int rep_wr, int pages_fd, bool short_pages)
{
	static uint32_t st[32], xmm[64], ymmh[64];
	UserX86RegsEntry gp = USER_X86_REGS_ENTRY__INIT;
	UserX86XsaveEntry xs = USER_X86_XSAVE_ENTRY__INIT;
	UserX86FpregsEntry fp = USER_X86_FPREGS_ENTRY__INIT;
	ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	CoreEntry core = CORE_ENTRY__INIT;
	struct rst_xsave_layout xl;
	struct rst_report rep = { 0 };
	struct rst_boot b;
	struct rst_args *a;
	struct rst_vma *v;
	struct rst_iov *iov;
	struct rst_thread *th;
	struct rst_span avoid[2] = { { CODE_ADDR, CODE_ADDR + PAGE },
				     { DATA_ADDR, DATA_ADDR + DATA_PAGES * PAGE } };
	uint8_t *frame;
	sigset_t all;
	uint64_t tp;
	char go;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (read(go_rd, &go, 1) != 1)
		_exit(2);

	gp.ip = CODE_ADDR;
	gp.sp = DATA_ADDR + DATA_PAGES * PAGE - 128;
	gp.ax = 0x1234;
	gp.bx = 0x5678;
	gp.r15 = 0xf15;
	gp.flags = 0x202;
	gp.cs = 0x33;
	gp.ss = 0x2b;
	gp.fs_base = DATA_ADDR + 0x800;
	fp.cwd = 0x37f;
	fp.mxcsr = 0x1f80;
	fp.mxcsr_mask = 0xffff;
	fp.n_st_space = 32;
	fp.st_space = st;
	xmm[0] = (uint32_t)XMM0_LO;
	xmm[1] = (uint32_t)(XMM0_LO >> 32);
	fp.n_xmm_space = 64;
	fp.xmm_space = xmm;
	if (has_avx()) {
		ymmh[0] = (uint32_t)YMM0_HI;
		ymmh[1] = (uint32_t)(YMM0_HI >> 32);
		xs.xstate_bv = 7;
		xs.n_ymmh_space = 64;
		xs.ymmh_space = ymmh;
		fp.xsave = &xs;
	}
	ti.gpregs = &gp;
	ti.fpregs = &fp;
	tc.blk_sigset = K_SIGMASK(SIGUSR1);
	core.mtype = CORE_ENTRY__MARCH__X86_64;
	core.thread_info = &ti;
	core.tc = &tc;

	if (rst_xsave_layout_get(&xl) || rst_boot_map(&b, 64 << 10, 0, avoid, 2))
		_exit(4);
	a = rst_boot_alloc(&b, sizeof(*a), 64);
	frame = rst_boot_alloc(&b, rst_sigframe_size(&xl), 64);
	v = rst_boot_alloc(&b, 2 * sizeof(*v), 8);
	iov = rst_boot_alloc(&b, 2 * sizeof(*iov), 8);
	th = rst_boot_alloc(&b, sizeof(*th), 8);
	if (!a || !frame || !v || !iov || !th || rst_sigframe_build(frame, &core, &xl, "test"))
		_exit(5);

	v[0] = (struct rst_vma){ .start = CODE_ADDR, .end = CODE_ADDR + PAGE,
				 .prot = K_PROT_READ | K_PROT_EXEC,
				 .flags = K_MAP_PRIVATE | K_MAP_ANONYMOUS, .fd = -1 };
	v[1] = (struct rst_vma){ .start = DATA_ADDR, .end = DATA_ADDR + DATA_PAGES * PAGE,
				 .prot = K_PROT_READ | K_PROT_WRITE,
				 .flags = K_MAP_PRIVATE | K_MAP_ANONYMOUS, .fd = -1, .entry = 1 };
	iov[0] = (struct rst_iov){ .addr = CODE_ADDR, .len = PAGE, .off = 0, .fd = pages_fd };
	iov[1] = (struct rst_iov){ .addr = DATA_ADDR, .len = short_pages ? 2 * PAGE : PAGE,
				   .off = PAGE, .fd = pages_fd };

	a->magic = RST_ARGS_MAGIC;
	a->size = sizeof(*a);
	a->bootstrap_start = (uint64_t)(uintptr_t)b.base;
	a->bootstrap_len = b.len;
	a->task_size = K_TASK_SIZE;
	a->report_fd = rep_wr;
	a->go_fd = go_rd;
	if (__rseq_size) {
		__asm__("movq %%fs:0, %0" : "=r"(tp));
		a->libc_rseq = tp + (uint64_t)__rseq_offset;
		a->libc_rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
		a->libc_rseq_sig = RSEQ_SIG;
	}
	a->vmas = (uint64_t)(uintptr_t)v;
	a->nr_vmas = 2;
	a->iovs = (uint64_t)(uintptr_t)iov;
	a->nr_iovs = 2;
	a->pages_fd = pages_fd;
	a->exe_fd = -1;
	a->dumpable = -1;
	a->pid = getpid();
	a->nr_threads = 1;
	a->threads = (uint64_t)(uintptr_t)th;
	th->tid = getpid();
	th->fs_base = gp.fs_base;
	strcpy(th->comm, "restored");
	th->sigframe = (uint64_t)(uintptr_t)frame;
	th->args = (uint64_t)(uintptr_t)a;

	rep.kind = RST_REPORT_BOOTSTRAP;
	rep.arg = a->bootstrap_start;
	rep.arg2 = a->bootstrap_len;
	rep.err = (int64_t)rst_boot_syscall_insn(&b);
	report(rep_wr, &rep);
	rst_boot_jump(&b, a);
}

struct run {
	struct rst_ctx c;
	int pages_fd;
};

static pid_t start(struct run *r, bool short_pages)
{
	int rep[2], go[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->pages_fd = make_pages();
	CHECK(r->pages_fd >= 0);
	if (pipe2(rep, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(rep[0]);
		close(go[1]);
		child(go[0], rep[1], r->pages_fd, short_pages);
		_exit(6);
	}
	close(rep[1]);
	close(go[0]);
	r->c.pid = r->c.child = pid;
	r->c.report_rd = rep[0];
	r->c.go_wr = go[1];
	r->c.report_wr = r->c.go_rd = -1;
	snprintf(r->c.pages_name, sizeof(r->c.pages_name), "pages-test.img");
	CHECK(ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) == 0);
	r->c.seized = true;
	CHECK(write(go[1], "g", 1) == 1);
	return pid;
}

static bool mapped(pid_t pid, uint64_t lo, uint64_t hi)
{
	char path[64], line[512];
	unsigned long long s, e;
	bool hit = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &s, &e) == 2 && s < hi && e > lo)
			hit = true;
	fclose(f);
	return hit;
}

static void restore_and_sigreturn(void)
{
	struct user_regs_struct regs;
	struct user_fpregs_struct fpregs;
	static uint8_t xsave[16384];
	struct iovec iov = { xsave, sizeof(xsave) };
	char data[sizeof(DATA_TEXT)];
	struct iovec liov = { data, sizeof(data) };
	struct iovec riov = { (void *)(uintptr_t)DATA_ADDR, sizeof(data) };
	uint64_t mask = 0, v;
	struct run r;
	int status;
	pid_t pid = start(&r, false);

	CHECK(pid > 0);
	CHECK_EQ(rst_wait_ready(&r.c), 0);
	CHECK_EQ(rst_finish_task(&r.c), 0);

	CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0);
	CHECK_EQ(regs.rip, CODE_ADDR);
	CHECK_EQ(regs.rax, 0x1234);
	CHECK_EQ(regs.rbx, 0x5678);
	CHECK_EQ(regs.r15, 0xf15);
	CHECK_EQ(regs.rsp, DATA_ADDR + DATA_PAGES * PAGE - 128);
	CHECK_EQ(regs.fs_base, DATA_ADDR + 0x800);
	CHECK(ptrace(PTRACE_GETFPREGS, pid, 0, &fpregs) == 0);
	memcpy(&v, fpregs.xmm_space, 8);
	CHECK_EQ(v, XMM0_LO);
	CHECK_EQ(fpregs.mxcsr, 0x1f80);
	if (has_avx()) {
		CHECK(ptrace(PTRACE_GETREGSET, pid, K_NT_X86_XSTATE, &iov) == 0);
		memcpy(&v, xsave + K_XSAVE_YMM_OFFSET, 8);
		CHECK_EQ(v, YMM0_HI);
	}
	CHECK(ptrace(K_PTRACE_GETSIGMASK, pid, sizeof(mask), &mask) == 0);
	CHECK_EQ(mask, K_SIGMASK(SIGUSR1));
	CHECK(process_vm_readv(pid, &liov, 1, &riov, 1, 0) == (ssize_t)sizeof(data));
	CHECK(!memcmp(data, DATA_TEXT, sizeof(data)));
	CHECK(mapped(pid, CODE_ADDR, CODE_ADDR + PAGE));
	CHECK(!mapped(pid, r.c.bootstrap_start, r.c.bootstrap_start + r.c.bootstrap_len));

	CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
}

static void short_pages_fail(void)
{
	struct run r;
	pid_t pid = start(&r, true);
	int ret;

	CHECK(pid > 0);
	ret = rst_wait_ready(&r.c);
	CHECK_EQ(ret, -EIO);
	CHECK(err_first_message() && strstr(err_first_message(), "read pages"));
	rst_kill_child(&r.c);
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(restore_and_sigreturn),
		TAP_TEST(short_pages_fail),
	};

	log_set_level(4);
	return tap_run(tests, TAP_COUNT(tests), &restore_tap_opts);
}
