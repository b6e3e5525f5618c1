/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parasite's entry, first in the blob (.head.text). criu sets
 * rip = base + __export_entry, rdi = the args area and rsp = the top of the
 * blob stack (16-byte aligned, so the C code sees rsp = 8 mod 16 after the
 * call), then continues the task until the int3.
 */
	.section .head.text, "ax"
	.globl __export_entry
	.type __export_entry, @function
	.hidden __export_entry
__export_entry:
	call parasite_service
	int3
	/* Never resumed past the int3; trap again if it ever is. */
1:	int3
	jmp 1b
	.size __export_entry, . - __export_entry

	/*
	 * "syscall; int3" for criu's remote system calls once the blob is in
	 * place, so the task's own code can be put back right away.
	 */
	.globl __export_syscall
	.hidden __export_syscall
__export_syscall:
	syscall
	int3

	.section .note.GNU-stack, "", @progbits
