/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entry and exit of the restorer blob. Stage 1 jumps to __export_entry with
 * %rdi = struct rst_args * and %rsp at the top of the blob's stack.
 */
	.section .head.text, "ax"
	.globl __export_entry
	.hidden __export_entry
	.type __export_entry, @function
__export_entry:
	andq	$-16, %rsp
	call	restorer_main
	ud2

	.text
/* rst_sigreturn(rsp): rsp points just past the frame's pretcode (5.21). */
	.globl rst_sigreturn
	.hidden rst_sigreturn
	.type rst_sigreturn, @function
rst_sigreturn:
	movq	%rdi, %rsp
	movl	$15, %eax
/*
 * criu also points the restored task here, with %rax = __NR_munmap, to
 * remove the bootstrap region; it stops the task at that syscall's exit
 * and puts its registers back, so the ud2 never runs.
 */
	.globl __export_syscall_insn
	.hidden __export_syscall_insn
__export_syscall_insn:
	syscall
	ud2

/*
 * long rst_clone_thread(struct clone_args *ca, size_t size, void (*fn)(void *), void *arg):
 * clone3 a thread that runs fn(arg) on the stack ca names and never returns.
 */
	.globl rst_clone_thread
	.hidden rst_clone_thread
	.type rst_clone_thread, @function
rst_clone_thread:
	movq	%rdx, %r8
	movq	%rcx, %r9
	movl	$435, %eax	/* __NR_clone3 */
	syscall
	testq	%rax, %rax
	jnz	1f
	/* The new thread: the kernel put rsp at the top of its stack. */
	andq	$-16, %rsp
	movq	%r9, %rdi
	call	*%r8
	ud2
1:	ret

	.section .note.GNU-stack, "", @progbits
