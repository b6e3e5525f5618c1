/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raw x86_64 system calls for the restorer blob, which has no libc.
 * Every call returns the kernel's answer: a value, or -errno.
 */
#ifndef PARASITE_RESTORER_RST_SYS_H
#define PARASITE_RESTORER_RST_SYS_H

#include <stdint.h>
#include <asm/unistd_64.h>

static inline long rst_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
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

#define RST_SC(nr, a1, a2, a3, a4, a5, a6) \
	rst_syscall6((nr), (long)(a1), (long)(a2), (long)(a3), (long)(a4), (long)(a5), (long)(a6))
#define sys0(nr) RST_SC(nr, 0, 0, 0, 0, 0, 0)
#define sys1(nr, a) RST_SC(nr, a, 0, 0, 0, 0, 0)
#define sys2(nr, a, b) RST_SC(nr, a, b, 0, 0, 0, 0)
#define sys3(nr, a, b, c) RST_SC(nr, a, b, c, 0, 0, 0)
#define sys4(nr, a, b, c, d) RST_SC(nr, a, b, c, d, 0, 0)
#define sys5(nr, a, b, c, d, e) RST_SC(nr, a, b, c, d, e, 0)
#define sys6(nr, a, b, c, d, e, f) RST_SC(nr, a, b, c, d, e, f)

/* Constants the blob needs, written out so no libc header is pulled in. */
#define RST_PROT_READ 0x1
#define RST_PROT_WRITE 0x2
#define RST_PROT_EXEC 0x4
#define RST_MAP_SHARED 0x01
#define RST_MAP_PRIVATE 0x02
#define RST_MAP_TYPE 0x0f
#define RST_MAP_DROPPABLE 0x08
#define RST_MAP_FIXED 0x10
#define RST_MAP_ANONYMOUS 0x20
#define RST_MAP_FIXED_NOREPLACE 0x100000
#define RST_MREMAP_MAYMOVE 1
#define RST_MREMAP_FIXED 2
#define RST_MADV_GUARD_INSTALL 102
#define RST_EINTR 4
#define RST_EAGAIN 11
#define RST_EINVAL 22
#define RST_EEXIST 17
#define RST_EIO 5

#define RST_PR_SET_PDEATHSIG 1
#define RST_PR_SET_DUMPABLE 4
#define RST_PR_SET_NAME 15
#define RST_PR_SET_SECCOMP 22
#define RST_PR_CAPBSET_DROP 24
#define RST_PR_SET_SECUREBITS 28
#define RST_PR_SET_MM 35
#define RST_PR_SET_MM_MAP 14
#define RST_PR_SET_CHILD_SUBREAPER 36
#define RST_PR_SET_NO_NEW_PRIVS 38
#define RST_PR_SET_THP_DISABLE 41
#define RST_PR_CAP_AMBIENT 47
#define RST_PR_CAP_AMBIENT_RAISE 2
#define RST_PR_TIMER_CREATE_RESTORE_IDS 77
#define RST_SECBIT_NO_SETUID_FIXUP 0x4
#define RST_ARCH_SET_GS 0x1001
#define RST_ARCH_SET_FS 0x1002
#define RST_SIGCHLD 17
#define RST_PRIO_PROCESS 0
#define RST_SIG_BLOCK 0
#define RST_SIG_SETMASK 2
#define RST_RSEQ_FLAG_UNREGISTER 1
#define RST_SECCOMP_SET_MODE_STRICT 0
#define RST_SECCOMP_SET_MODE_FILTER 1

#endif /* PARASITE_RESTORER_RST_SYS_H */
