/* The i386 vDSO's entry points (vdso32/system_call.S, vdso32/sigreturn.S): the system call
 * through int $0x80, and the signal-return trampolines a handler returns to when it was
 * installed without SA_RESTORER. */
#include <asm/unistd_32.h>

	.text
	.globl __kernel_vsyscall
	.type __kernel_vsyscall, @function
	.p2align 4
__kernel_vsyscall:
	.cfi_startproc
	int $0x80
	ret
	.cfi_endproc
	.size __kernel_vsyscall, .-__kernel_vsyscall

	.globl __kernel_sigreturn
	.type __kernel_sigreturn, @function
	.p2align 5
__kernel_sigreturn:
	popl %eax
	movl $__NR_sigreturn, %eax
	int $0x80
	.size __kernel_sigreturn, .-__kernel_sigreturn

	.globl __kernel_rt_sigreturn
	.type __kernel_rt_sigreturn, @function
	.p2align 5
__kernel_rt_sigreturn:
	movl $__NR_rt_sigreturn, %eax
	int $0x80
	.size __kernel_rt_sigreturn, .-__kernel_rt_sigreturn

	.section .note.GNU-stack,"",@progbits
