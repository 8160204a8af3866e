/* sig_frame: the signal frame a SA_SIGINFO SIGSEGV handler gets, and sigreturn.
 * Small assembly stubs load known values into registers (callee-saved ones, a
 * caller-saved one, xmm0), record their stack pointer, and execute a 2-byte faulting
 * access through address 16 (read: mov (%rax),%eax = 8b 00; write: mov %eax,(%rax) =
 * 89 00; the same bytes on i386 with %eax). The handler, entered through a trampoline
 * that records the stack pointer at entry, checks the frame:
 *   - the saved instruction pointer is the faulting instruction inside the stub,
 *   - the saved general registers and xmm0 hold the stub's values, the saved stack
 *     pointer is the stub's, trapno is 14 (page fault), err is the page-fault error code
 *     (4: user read of a not-present page, 6: user write), cr2 == si_addr,
 *   - uc_sigmask is the mask at the fault, while the handler runs SIGSEGV is blocked,
 *   - the stack at entry is aligned as the ABI wants for a function entry;
 * then it edits the frame: instruction pointer += 2 (skip the access), ecx/rcx := a
 * marker, SIGUSR1 added to uc_sigmask; and clobbers xmm0. After sigreturn the stub
 * stores its registers: the callee-saved and caller-saved values and xmm0 are intact,
 * rcx has the marker, SIGUSR1 is blocked. Addresses are printed only as yes/no. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

/* Shared with the assembly (global names, no static, so that the asm can use them). */
unsigned long frame_out[5]; /* after the fault: [0] callee-saved 1, [1] cx, [2] sp at the
                               fault, [3] callee-saved 2, [4] caller-saved dx */
unsigned char xmm_in[16] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
unsigned char xmm_out[16];
unsigned long entry_sp;
void fault_read_stub(void);
void fault_write_stub(void);
extern char fault_read_stub_insn[], fault_read_stub_end[];
extern char fault_write_stub_insn[], fault_write_stub_end[];
void segv_entry(int, siginfo_t *, void *);

#define FAULT_ADDR 16UL
#define CX_MARK 0xc0ffeeUL

#ifdef __x86_64__
#define CALLEE1 0x1122334455667788UL /* rbx */
#define CALLEE2 0x0123456789abcdefUL /* r12 */
#define CALLER 0x5a5a5a5aa5a5a5a5UL  /* rdx */
__asm__(".text\n"
        ".macro FAULT_STUB name, b0, b1\n"
        ".globl \\name\n.type \\name,@function\n"
        "\\name:\n"
        "\tpush %rbx\n"
        "\tpush %r12\n"
        "\tmovabs $0x1122334455667788, %rbx\n"
        "\tmovabs $0x0123456789abcdef, %r12\n"
        "\tmovabs $0x5a5a5a5aa5a5a5a5, %rdx\n"
        "\tmovdqu xmm_in(%rip), %xmm0\n"
        "\tmov $16, %eax\n"
        "\txor %ecx, %ecx\n"
        "\tmov %rsp, frame_out+16(%rip)\n"
        ".globl \\name\\()_insn\n"
        "\\name\\()_insn:\n"
        "\t.byte \\b0, \\b1\n"
        "\tmov %rbx, frame_out(%rip)\n"
        "\tmov %rcx, frame_out+8(%rip)\n"
        "\tmov %r12, frame_out+24(%rip)\n"
        "\tmov %rdx, frame_out+32(%rip)\n"
        "\tmovdqu %xmm0, xmm_out(%rip)\n"
        "\tpop %r12\n"
        "\tpop %rbx\n"
        "\tret\n"
        ".globl \\name\\()_end\n"
        "\\name\\()_end:\n"
        ".endm\n"
        "FAULT_STUB fault_read_stub, 0x8b, 0x00\n"
        "FAULT_STUB fault_write_stub, 0x89, 0x00\n"
        ".globl segv_entry\n.type segv_entry,@function\n"
        "segv_entry:\n"
        "\tmov %rsp, entry_sp(%rip)\n"
        "\tjmp segv_handler\n");
#define G_IP REG_RIP
#define G_SP REG_RSP
#define G_AX REG_RAX
#define G_CX REG_RCX
#define G_DX REG_RDX
#define G_CALLEE1 REG_RBX
#define G_CALLEE2 REG_R12
#define CR2(uc) ((unsigned long)(uc)->uc_mcontext.gregs[REG_CR2])
/* On entry (just after the call that pushed the return address) rsp + 8 is 16-aligned. */
#define ENTRY_ALIGNED(sp) (((sp) + 8) % 16 == 0)
static const unsigned char *frame_xmm0(ucontext_t *uc)
{
    return (const unsigned char *)uc->uc_mcontext.fpregs->_xmm[0].element;
}
static const char *fp_format(ucontext_t *uc)
{
    return uc->uc_mcontext.fpregs ? "present" : "missing";
}
#else
#define CALLEE1 0x11223344UL /* ebx */
#define CALLEE2 0x55667788UL /* esi */
#define CALLER 0x99aabbccUL  /* edx */
__asm__(".text\n"
        ".macro FAULT_STUB name, b0, b1\n"
        ".globl \\name\n.type \\name,@function\n"
        "\\name:\n"
        "\tpush %ebx\n"
        "\tpush %esi\n"
        "\tmov $0x11223344, %ebx\n"
        "\tmov $0x55667788, %esi\n"
        "\tmov $0x99aabbcc, %edx\n"
        "\tmovdqu xmm_in, %xmm0\n"
        "\tmov $16, %eax\n"
        "\txor %ecx, %ecx\n"
        "\tmov %esp, frame_out+8\n"
        ".globl \\name\\()_insn\n"
        "\\name\\()_insn:\n"
        "\t.byte \\b0, \\b1\n"
        "\tmov %ebx, frame_out\n"
        "\tmov %ecx, frame_out+4\n"
        "\tmov %esi, frame_out+12\n"
        "\tmov %edx, frame_out+16\n"
        "\tmovdqu %xmm0, xmm_out\n"
        "\tpop %esi\n"
        "\tpop %ebx\n"
        "\tret\n"
        ".globl \\name\\()_end\n"
        "\\name\\()_end:\n"
        ".endm\n"
        "FAULT_STUB fault_read_stub, 0x8b, 0x00\n"
        "FAULT_STUB fault_write_stub, 0x89, 0x00\n"
        ".globl segv_entry\n.type segv_entry,@function\n"
        "segv_entry:\n"
        "\tmov %esp, entry_sp\n"
        "\tjmp segv_handler\n");
#define G_IP REG_EIP
#define G_SP REG_ESP
#define G_AX REG_EAX
#define G_CX REG_ECX
#define G_DX REG_EDX
#define G_CALLEE1 REG_EBX
#define G_CALLEE2 REG_ESI
#define CR2(uc) ((unsigned long)(uc)->uc_mcontext.cr2)
/* i386 Linux: esp + 4 is 16-aligned at handler entry (what gcc assumes for -m32). */
#define ENTRY_ALIGNED(sp) (((sp) + 4) % 16 == 0)
/* The i386 frame's fpstate: the legacy FNSAVE image (112 bytes), then with
 * magic == 0 (X86_FXSR_MAGIC) the FXSAVE image, whose xmm0 lies at offset 272. */
static const unsigned char *frame_xmm0(ucontext_t *uc)
{
    return (const unsigned char *)uc->uc_mcontext.fpregs + 272;
}
static const char *fp_format(ucontext_t *uc)
{
    if (!uc->uc_mcontext.fpregs)
        return "missing";
    unsigned short magic;
    memcpy(&magic, (const char *)uc->uc_mcontext.fpregs + 110, 2);
    return magic == 0 ? "present (fxsr)" : "present (no fxsr)";
}
#endif

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* What the handler saw (filled in by segv_handler, printed by main). */
static struct {
    int calls, signo, code;
    unsigned long addr, ip, sp, ax, cx, dx, callee1, callee2, trapno, err, cr2, entry_sp;
    unsigned char xmm0[16];
    const char *fp;
    int uc_usr2, uc_segv, now_segv, now_usr2;
} seen;

static char *insn_of_stub, *end_of_stub, *start_of_stub;

__attribute__((used)) void segv_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    (void)sig;
    seen.calls++;
    seen.entry_sp = entry_sp;
    seen.signo = si->si_signo;
    seen.code = si->si_code;
    seen.addr = (unsigned long)si->si_addr;
    seen.ip = (unsigned long)g[G_IP];
    seen.sp = (unsigned long)g[G_SP];
    seen.ax = (unsigned long)g[G_AX];
    seen.cx = (unsigned long)g[G_CX];
    seen.dx = (unsigned long)g[G_DX];
    seen.callee1 = (unsigned long)g[G_CALLEE1];
    seen.callee2 = (unsigned long)g[G_CALLEE2];
    seen.trapno = (unsigned long)g[REG_TRAPNO];
    seen.err = (unsigned long)g[REG_ERR];
    seen.cr2 = CR2(uc);
    seen.fp = fp_format(uc);
    if (uc->uc_mcontext.fpregs)
        memcpy(seen.xmm0, frame_xmm0(uc), 16);
    seen.uc_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
    seen.uc_segv = sigismember(&uc->uc_sigmask, SIGSEGV);
    sigset_t now;
    sigemptyset(&now);
    sigprocmask(SIG_BLOCK, NULL, &now);
    seen.now_segv = sigismember(&now, SIGSEGV);
    seen.now_usr2 = sigismember(&now, SIGUSR2);

    /* Resume after the 2-byte access, only if the fault is where it is expected. */
    if ((char *)seen.ip != insn_of_stub)
        _exit(20);
    g[G_IP] += 2;
    g[G_CX] = CX_MARK;
    sigaddset(&uc->uc_sigmask, SIGUSR1);
    /* Clobber xmm0 (and edx through a libc call above): sigreturn must restore them. */
#ifdef __SSE__
    __asm__ volatile("pxor %%xmm0, %%xmm0" ::: "xmm0");
#else
    __asm__ volatile("pxor %%xmm0, %%xmm0" ::); /* -m32 without -msse: gcc uses no xmm */
#endif
}

static void run(const char *what, void (*stub)(void), char *insn, char *end, unsigned long want_err)
{
    memset(&seen, 0, sizeof seen);
    memset(frame_out, 0, sizeof frame_out);
    memset(xmm_out, 0, sizeof xmm_out);
    start_of_stub = (char *)stub;
    insn_of_stub = insn;
    end_of_stub = end;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    sigprocmask(SIG_SETMASK, &mask, NULL);

    stub();

    sigset_t after;
    sigemptyset(&after);
    sigprocmask(SIG_SETMASK, NULL, &after);
    sigemptyset(&mask);
    sigprocmask(SIG_SETMASK, &mask, NULL);

    printf("%s: handler ran %d time(s), si_signo %d, si_code %d (%s)\n", what, seen.calls, seen.signo,
           seen.code, seen.code == SEGV_MAPERR ? "SEGV_MAPERR" : "other");
    printf("%s: si_addr == %lu: %s\n", what, FAULT_ADDR, yesno(seen.addr == FAULT_ADDR));
    printf("%s: saved ip inside the stub: %s, at the faulting instruction: %s\n", what,
           yesno((char *)seen.ip >= start_of_stub && (char *)seen.ip < end_of_stub),
           yesno((char *)seen.ip == insn));
    printf("%s: frame trapno %lu, err %lu (expected %lu), cr2 == si_addr %s\n", what, seen.trapno,
           seen.err, want_err, yesno(seen.cr2 == seen.addr));
    printf("%s: frame registers: ax == address %s, cx == 0 %s, dx %s, callee-saved %s %s\n", what,
           yesno(seen.ax == FAULT_ADDR), yesno(seen.cx == 0), yesno(seen.dx == CALLER),
           yesno(seen.callee1 == CALLEE1), yesno(seen.callee2 == CALLEE2));
    printf("%s: frame sp == sp at the fault: %s\n", what, yesno(seen.sp == frame_out[2]));
    printf("%s: frame fp state %s, xmm0 == pattern %s\n", what, seen.fp,
           yesno(memcmp(seen.xmm0, xmm_in, 16) == 0));
    printf("%s: uc_sigmask has SIGUSR2 %s, SIGSEGV %s; in the handler SIGSEGV blocked %s, SIGUSR2 %s\n",
           what, yesno(seen.uc_usr2), yesno(seen.uc_segv), yesno(seen.now_segv), yesno(seen.now_usr2));
    printf("%s: handler entry stack aligned for the ABI: %s, below the interrupted sp: %s\n", what,
           yesno(ENTRY_ALIGNED(seen.entry_sp)), yesno(seen.entry_sp < seen.sp));
    printf("%s: after sigreturn: callee-saved intact %s %s, dx intact %s, cx == marker %s, xmm0 intact %s\n",
           what, yesno(frame_out[0] == CALLEE1), yesno(frame_out[3] == CALLEE2),
           yesno(frame_out[4] == CALLER), yesno(frame_out[1] == CX_MARK),
           yesno(memcmp(xmm_out, xmm_in, 16) == 0));
    printf("%s: after sigreturn: mask from uc_sigmask: SIGUSR1 %s, SIGUSR2 %s, SIGSEGV %s\n", what,
           yesno(sigismember(&after, SIGUSR1)), yesno(sigismember(&after, SIGUSR2)),
           yesno(sigismember(&after, SIGSEGV)));
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_entry;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        perror("sigaction");
        return 2;
    }
    run("read", fault_read_stub, fault_read_stub_insn, fault_read_stub_end, 4);
    run("write", fault_write_stub, fault_write_stub_insn, fault_write_stub_end, 6);
    return 0;
}
