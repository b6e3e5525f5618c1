/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raw x86_64 system calls for freestanding code (the parasite and the
 * restorer). Every wrapper returns what the kernel returns: a result >= 0,
 * or a negative errno in -4095..-1. There is no errno variable.
 *
 * Also usable from the core (it includes nothing from libc), but the core
 * normally has glibc and should use it.
 */
#ifndef PIE_SYSCALL_H
#define PIE_SYSCALL_H

#include <stddef.h>
#include <stdint.h>

#include <asm/unistd_64.h>

/* Missing from the 6.1 UAPI headers (facts, Appendix A). */
#ifndef __NR_map_shadow_stack
#define __NR_map_shadow_stack 453
#endif
#ifndef __NR_mseal
#define __NR_mseal 462
#endif

/* Is a raw return value an error? */
#define PIE_IS_ERR(v) ((unsigned long)(v) >= (unsigned long)-4095L)

static inline long pie_syscall0(long nr)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall1(long nr, long a1)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1) : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall2(long nr, long a1, long a2)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall3(long nr, long a1, long a2, long a3)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall4(long nr, long a1, long a2, long a3, long a4)
{
	long ret;
	register long r10 __asm__("r10") = a4;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define PIE_L(x) ((long)(x))

/* Memory. */
static inline long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return pie_syscall6(__NR_mmap, PIE_L(addr), PIE_L(len), prot, flags, fd, off);
}
static inline long sys_munmap(void *addr, size_t len)
{
	return pie_syscall2(__NR_munmap, PIE_L(addr), PIE_L(len));
}
static inline long sys_mprotect(void *addr, size_t len, int prot)
{
	return pie_syscall3(__NR_mprotect, PIE_L(addr), PIE_L(len), prot);
}
static inline long sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	return pie_syscall5(__NR_mremap, PIE_L(old), PIE_L(old_len), PIE_L(new_len), flags,
			    PIE_L(new_addr));
}
static inline long sys_madvise(void *addr, size_t len, int advice)
{
	return pie_syscall3(__NR_madvise, PIE_L(addr), PIE_L(len), advice);
}
static inline long sys_brk(void *addr)
{
	return pie_syscall1(__NR_brk, PIE_L(addr));
}
static inline long sys_mseal(void *addr, size_t len)
{
	return pie_syscall3(__NR_mseal, PIE_L(addr), PIE_L(len), 0);
}

/* Files. */
static inline long sys_read(int fd, void *buf, size_t n)
{
	return pie_syscall3(__NR_read, fd, PIE_L(buf), PIE_L(n));
}
static inline long sys_write(int fd, const void *buf, size_t n)
{
	return pie_syscall3(__NR_write, fd, PIE_L(buf), PIE_L(n));
}
static inline long sys_pread64(int fd, void *buf, size_t n, long off)
{
	return pie_syscall4(__NR_pread64, fd, PIE_L(buf), PIE_L(n), off);
}
static inline long sys_preadv(int fd, const void *iov, unsigned long n, long off)
{
	/* pos_l, pos_h: on x86_64 the whole offset goes in pos_l. */
	return pie_syscall5(__NR_preadv, fd, PIE_L(iov), PIE_L(n), off, 0);
}
static inline long sys_openat(int dfd, const char *path, int flags, int mode)
{
	return pie_syscall4(__NR_openat, dfd, PIE_L(path), flags, mode);
}
static inline long sys_close(int fd)
{
	return pie_syscall1(__NR_close, fd);
}
static inline long sys_lseek(int fd, long off, int whence)
{
	return pie_syscall3(__NR_lseek, fd, off, whence);
}
static inline long sys_fcntl(int fd, int cmd, long arg)
{
	return pie_syscall3(__NR_fcntl, fd, cmd, arg);
}
static inline long sys_dup2(int old, int new_fd)
{
	return pie_syscall2(__NR_dup2, old, new_fd);
}
static inline long sys_vmsplice(int fd, const void *iov, unsigned long nr, unsigned int flags)
{
	return pie_syscall4(__NR_vmsplice, fd, PIE_L(iov), PIE_L(nr), flags);
}
static inline long sys_umask(int mask)
{
	return pie_syscall1(__NR_umask, mask);
}
static inline long sys_memfd_create(const char *name, unsigned int flags)
{
	return pie_syscall2(__NR_memfd_create, PIE_L(name), flags);
}

/* Processes and threads. */
static inline long sys_getpid(void)
{
	return pie_syscall0(__NR_getpid);
}
static inline long sys_gettid(void)
{
	return pie_syscall0(__NR_gettid);
}
static inline long sys_getsid(int pid)
{
	return pie_syscall1(__NR_getsid, pid);
}
static inline long sys_getpgid(int pid)
{
	return pie_syscall1(__NR_getpgid, pid);
}
static inline __attribute__((noreturn)) void sys_exit_group(int code)
{
	pie_syscall1(__NR_exit_group, code);
	__builtin_unreachable();
}
static inline long sys_exit(int code)
{
	return pie_syscall1(__NR_exit, code);
}
static inline long sys_kill(int pid, int sig)
{
	return pie_syscall2(__NR_kill, pid, sig);
}
static inline long sys_tgkill(int tgid, int tid, int sig)
{
	return pie_syscall3(__NR_tgkill, tgid, tid, sig);
}
static inline long sys_clone3(void *args, size_t size)
{
	return pie_syscall2(__NR_clone3, PIE_L(args), PIE_L(size));
}
static inline long sys_set_tid_address(int *tidptr)
{
	return pie_syscall1(__NR_set_tid_address, PIE_L(tidptr));
}
static inline long sys_set_robust_list(void *head, size_t len)
{
	return pie_syscall2(__NR_set_robust_list, PIE_L(head), PIE_L(len));
}
static inline long sys_futex(uint32_t *uaddr, int op, uint32_t val, const void *ts, uint32_t *uaddr2,
			     uint32_t val3)
{
	return pie_syscall6(__NR_futex, PIE_L(uaddr), op, val, PIE_L(ts), PIE_L(uaddr2), val3);
}
static inline long sys_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4,
			     unsigned long a5)
{
	return pie_syscall5(__NR_prctl, option, PIE_L(a2), PIE_L(a3), PIE_L(a4), PIE_L(a5));
}
static inline long sys_arch_prctl(int code, unsigned long addr)
{
	return pie_syscall2(__NR_arch_prctl, code, PIE_L(addr));
}
static inline long sys_rseq(void *rseq, uint32_t len, int flags, uint32_t sig)
{
	return pie_syscall4(__NR_rseq, PIE_L(rseq), len, flags, sig);
}
static inline long sys_seccomp(unsigned int op, unsigned int flags, void *args)
{
	return pie_syscall3(__NR_seccomp, op, flags, PIE_L(args));
}
static inline long sys_membarrier(int cmd, unsigned int flags, int cpu_id)
{
	return pie_syscall3(__NR_membarrier, cmd, flags, cpu_id);
}
static inline long sys_sched_setscheduler(int pid, int policy, const void *param)
{
	return pie_syscall3(__NR_sched_setscheduler, pid, policy, PIE_L(param));
}
static inline long sys_setpriority(int which, int who, int prio)
{
	return pie_syscall3(__NR_setpriority, which, who, prio);
}
static inline long sys_nanosleep(const void *req, void *rem)
{
	return pie_syscall2(__NR_nanosleep, PIE_L(req), PIE_L(rem));
}

/* Credentials. */
static inline long sys_setresuid(int r, int e, int s)
{
	return pie_syscall3(__NR_setresuid, r, e, s);
}
static inline long sys_setresgid(int r, int e, int s)
{
	return pie_syscall3(__NR_setresgid, r, e, s);
}
static inline long sys_setfsuid(int id)
{
	return pie_syscall1(__NR_setfsuid, id);
}
static inline long sys_setfsgid(int id)
{
	return pie_syscall1(__NR_setfsgid, id);
}
static inline long sys_setgroups(int n, const uint32_t *list)
{
	return pie_syscall2(__NR_setgroups, n, PIE_L(list));
}
static inline long sys_capget(void *hdr, void *data)
{
	return pie_syscall2(__NR_capget, PIE_L(hdr), PIE_L(data));
}
static inline long sys_capset(void *hdr, const void *data)
{
	return pie_syscall2(__NR_capset, PIE_L(hdr), PIE_L(data));
}

/* Signals. SIGSETSIZE is always 8 on x86_64. */
static inline long sys_rt_sigaction(int sig, const void *act, void *oact)
{
	return pie_syscall4(__NR_rt_sigaction, sig, PIE_L(act), PIE_L(oact), 8);
}
static inline long sys_rt_sigprocmask(int how, const void *set, void *old)
{
	return pie_syscall4(__NR_rt_sigprocmask, how, PIE_L(set), PIE_L(old), 8);
}
static inline long sys_rt_sigqueueinfo(int tgid, int sig, void *info)
{
	return pie_syscall3(__NR_rt_sigqueueinfo, tgid, sig, PIE_L(info));
}
static inline long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, void *info)
{
	return pie_syscall4(__NR_rt_tgsigqueueinfo, tgid, tid, sig, PIE_L(info));
}
static inline long sys_sigaltstack(const void *ss, void *old)
{
	return pie_syscall2(__NR_sigaltstack, PIE_L(ss), PIE_L(old));
}

/* Timers. */
static inline long sys_getitimer(int which, void *val)
{
	return pie_syscall2(__NR_getitimer, which, PIE_L(val));
}
static inline long sys_setitimer(int which, const void *val, void *old)
{
	return pie_syscall3(__NR_setitimer, which, PIE_L(val), PIE_L(old));
}
static inline long sys_timer_create(int clock, void *sev, int *id)
{
	return pie_syscall3(__NR_timer_create, clock, PIE_L(sev), PIE_L(id));
}
static inline long sys_timer_settime(int id, int flags, const void *val, void *old)
{
	return pie_syscall4(__NR_timer_settime, id, flags, PIE_L(val), PIE_L(old));
}
static inline long sys_timer_gettime(int id, void *val)
{
	return pie_syscall2(__NR_timer_gettime, id, PIE_L(val));
}
static inline long sys_timer_getoverrun(int id)
{
	return pie_syscall1(__NR_timer_getoverrun, id);
}
static inline long sys_timer_delete(int id)
{
	return pie_syscall1(__NR_timer_delete, id);
}

#endif /* PIE_SYSCALL_H */
