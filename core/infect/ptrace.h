/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small ptrace helpers shared by seize, remote syscalls and the parasite
 * runner: register and sigmask access, word peeks and pokes, and waiting
 * for a tracee's next stop. All return 0 or a negative errno and log the
 * failure with the pid.
 */
#ifndef CORE_INFECT_PTRACE_H
#define CORE_INFECT_PTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pie/kabi.h>

int infect_get_regs(pid_t tid, struct k_user_regs *regs);
int infect_set_regs(pid_t tid, const struct k_user_regs *regs);
int infect_get_sigmask(pid_t tid, k_sigset_t *mask);
int infect_set_sigmask(pid_t tid, k_sigset_t mask);

/* Read or write LEN bytes (a multiple of 8) at ADDR with PEEKDATA/POKEDATA. */
int infect_peek(pid_t tid, uint64_t addr, void *buf, size_t len);
int infect_poke(pid_t tid, uint64_t addr, const void *buf, size_t len);

/* waitpid(tid, __WALL), retried on EINTR. */
int infect_wait(pid_t tid, int *status);

/* A readable description of a wait status, for messages. */
const char *infect_status_str(int status, char *buf, size_t len);

#endif /* CORE_INFECT_PTRACE_H */
