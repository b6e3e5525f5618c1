/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Spin loops that hold patterns in the FPU, SSE, AVX and AVX-512
 * registers (and some general purpose ones) while the task is dumped and
 * restored. Each: void f(const volatile int *stop, in, out) with
 * %rdi = stop, %rsi = in, %rdx = out (struct fpu_regs, see fpu00.h).
 */
#include "fpu00.h"

	.text

/* Common prologue: callee-saved registers, MXCSR, x87 control word and stack, GPRs. */
.macro LOAD_COMMON
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	ldmxcsr	FPU_MXCSR_OFF(%rsi)
	fninit
	fldcw	FPU_FCW_OFF(%rsi)
	/* Push st[7] first so that st(0) ends up holding st[0]. */
	.irp n,7,6,5,4,3,2,1,0
	fldl	FPU_ST_OFF+\n*8(%rsi)
	.endr
.endm

.macro LOAD_GPRS
	mov	FPU_GPR_OFF+0*8(%rsi), %rbx
	mov	FPU_GPR_OFF+1*8(%rsi), %r8
	mov	FPU_GPR_OFF+2*8(%rsi), %r9
	mov	FPU_GPR_OFF+3*8(%rsi), %r10
	mov	FPU_GPR_OFF+4*8(%rsi), %r11
	mov	FPU_GPR_OFF+5*8(%rsi), %r12
	mov	FPU_GPR_OFF+6*8(%rsi), %r13
	mov	FPU_GPR_OFF+7*8(%rsi), %r14
	mov	FPU_GPR_OFF+8*8(%rsi), %r15
.endm

/* Spin on *stop; only %rdi and the flags are used. */
.macro SPIN
1:	pause
	cmpl	$0, (%rdi)
	je	1b
.endm

.macro STORE_COMMON
	mov	%rbx, FPU_GPR_OFF+0*8(%rdx)
	mov	%r8, FPU_GPR_OFF+1*8(%rdx)
	mov	%r9, FPU_GPR_OFF+2*8(%rdx)
	mov	%r10, FPU_GPR_OFF+3*8(%rdx)
	mov	%r11, FPU_GPR_OFF+4*8(%rdx)
	mov	%r12, FPU_GPR_OFF+5*8(%rdx)
	mov	%r13, FPU_GPR_OFF+6*8(%rdx)
	mov	%r14, FPU_GPR_OFF+7*8(%rdx)
	mov	%r15, FPU_GPR_OFF+8*8(%rdx)
	.irp n,0,1,2,3,4,5,6,7
	fstpl	FPU_ST_OFF+\n*8(%rdx)
	.endr
	fnstcw	FPU_FCW_OFF(%rdx)
	stmxcsr	FPU_MXCSR_OFF(%rdx)
	/* Back to the ABI's defaults for the C code. */
	fninit
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
.endm

	.globl	fpu_spin_sse
	.type	fpu_spin_sse, @function
fpu_spin_sse:
	LOAD_COMMON
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	FPU_VEC_OFF+\n*64(%rsi), %xmm\n
	.endr
	LOAD_GPRS
	SPIN
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	%xmm\n, FPU_VEC_OFF+\n*64(%rdx)
	.endr
	STORE_COMMON
	ret
	.size	fpu_spin_sse, .-fpu_spin_sse

	.globl	fpu_spin_avx
	.type	fpu_spin_avx, @function
fpu_spin_avx:
	LOAD_COMMON
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	FPU_VEC_OFF+\n*64(%rsi), %ymm\n
	.endr
	LOAD_GPRS
	SPIN
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	%ymm\n, FPU_VEC_OFF+\n*64(%rdx)
	.endr
	vzeroupper
	STORE_COMMON
	ret
	.size	fpu_spin_avx, .-fpu_spin_avx

	.globl	fpu_spin_avx512
	.type	fpu_spin_avx512, @function
fpu_spin_avx512:
	LOAD_COMMON
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 FPU_VEC_OFF+\n*64(%rsi), %zmm\n
	.endr
	.irp n,0,1,2,3,4,5,6,7
	kmovw	FPU_K_OFF+\n*2(%rsi), %k\n
	.endr
	LOAD_GPRS
	SPIN
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 %zmm\n, FPU_VEC_OFF+\n*64(%rdx)
	.endr
	.irp n,0,1,2,3,4,5,6,7
	kmovw	%k\n, FPU_K_OFF+\n*2(%rdx)
	.endr
	vzeroupper
	STORE_COMMON
	ret
	.size	fpu_spin_avx512, .-fpu_spin_avx512

	.section .note.GNU-stack,"",@progbits
