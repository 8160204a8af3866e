// x86 signal frames (arch/x86/kernel/signal.c, signal_32.c): rt_sigframe for x86-64, and for
// i386 the rt_sigframe (SA_SIGINFO) and the old sigframe; rt_sigreturn and sigreturn.
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "guestos/arch/x86/entry/vdso/vma.h"
#include "guestos/mm/memory.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {

constexpr uint16_t USER_CS64 = 0x33, USER_DS64 = 0x2b, USER_CS32 = 0x73, USER_DS32 = 0x7b;
constexpr uint64_t X86_EFLAGS_TF = 0x100, X86_EFLAGS_DF = 0x400, X86_EFLAGS_RF = 0x10000;
// The flags sigreturn may restore (FIX_EFLAGS).
constexpr uint64_t FIX_EFLAGS = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x10000 | 0x40000;
constexpr uint64_t UC_SIGCONTEXT_SS = 0x2, UC_STRICT_RESTORE_SS = 0x4;
constexpr uint32_t NR_rt_sigreturn_32 = 173, NR_sigreturn_32 = 119;
constexpr size_t FXSAVE_SIZE = 512, FREGS_SIZE = 112;

#pragma pack(push, 1)
struct sigcontext64 {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, di, si, bp, bx, dx, ax, cx, sp, ip, flags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
};
struct stack64 {
    uint64_t ss_sp;
    int32_t ss_flags, pad;
    uint64_t ss_size;
};
struct ucontext64 {
    uint64_t uc_flags, uc_link;
    stack64 uc_stack;
    sigcontext64 uc_mcontext;
    uint64_t uc_sigmask;
};
struct siginfo64 {
    int32_t si_signo, si_errno, si_code, pad;
    uint8_t fields[112];  // si_addr, or si_pid + si_uid
};
struct rt_sigframe64 {
    uint64_t pretcode;
    ucontext64 uc;
    siginfo64 info;
};
struct sigcontext32 {
    uint16_t gs, gsh, fs, fsh, es, esh, ds, dsh;
    uint32_t di, si, bp, sp, bx, dx, cx, ax, trapno, err, ip;
    uint16_t cs, csh;
    uint32_t flags, sp_at_signal;
    uint16_t ss, ssh;
    uint32_t fpstate, oldmask, cr2;
};
struct stack32 {
    uint32_t ss_sp;
    int32_t ss_flags;
    uint32_t ss_size;
};
struct ucontext32 {
    uint32_t uc_flags, uc_link;
    stack32 uc_stack;
    sigcontext32 uc_mcontext;
    uint64_t uc_sigmask;
};
struct siginfo32 {
    int32_t si_signo, si_errno, si_code;
    uint8_t fields[116];
};
struct rt_sigframe32 {
    uint32_t pretcode;
    int32_t sig;
    uint32_t pinfo, puc;
    siginfo32 info;
    ucontext32 uc;
    uint8_t retcode[8];
};
struct sigframe32 {
    uint32_t pretcode;
    int32_t sig;
    sigcontext32 sc;
    uint8_t fpstate_unused[624];
    uint32_t extramask;
    uint8_t retcode[8];
};
#pragma pack(pop)
static_assert(sizeof(sigcontext64) == 256 && sizeof(ucontext64) == 304 && sizeof(rt_sigframe64) == 440);
static_assert(sizeof(sigcontext32) == 88 && sizeof(ucontext32) == 116 && sizeof(rt_sigframe32) == 268);
static_assert(sizeof(sigframe32) == 732);

// The user's fields of siginfo: a fault address, or the sender of a kill.
void fill_siginfo_fields(const kernel_siginfo& in, uint8_t* fields, size_t ptr_size) {
    if ((in.si_code > 0 && in.si_code != SI_KERNEL) || in.si_code == SI_SIGIO) {
        std::memcpy(fields, &in.addr, ptr_size);    // si_addr, or si_band
        std::memcpy(fields + ptr_size, &in.fd, 4);  // si_fd (0 for a fault)
    } else if (in.si_code == SI_TIMER) {            // _timer: si_tid, si_overrun, si_sigval
        std::memcpy(fields, &in.tid, 4);
        std::memcpy(fields + 4, &in.overrun, 4);
        std::memcpy(fields + 8, &in.value, ptr_size);
    } else if (in.si_code <= 0) {
        std::memcpy(fields, &in.pid, 4);
        std::memcpy(fields + 4, &in.uid, 4);
        std::memcpy(fields + 8, &in.value, ptr_size);  // si_value (sigqueue)
    }
}

// sas_ss_flags(): where sp stands relative to the alternate stack.
int sas_ss_flags(const task_struct& t, uint64_t sp) {
    if (!t.sas_ss_size) return SS_DISABLE;
    return on_sig_stack(t, sp) ? SS_ONSTACK : 0;
}

// The FPU state a handler starts with (fpu__clear_user_states): FCW 0x37f, MXCSR 0x1f80.
void fpu_init_state(uint8_t* fx) {
    std::memset(fx, 0, FXSAVE_SIZE);
    const uint16_t fcw = 0x37f;
    const uint32_t mxcsr = 0x1f80, mxcsr_mask = 0xffff;
    std::memcpy(fx, &fcw, 2);
    std::memcpy(fx + 24, &mxcsr, 4);
    std::memcpy(fx + 28, &mxcsr_mask, 4);
}

// Where the frame and the FPU state go (get_sigframe + fpu__alloc_mathframe); 0 on overflow
// of the alternate stack.
struct FrameSpot {
    uint64_t frame = 0, fpstate = 0;
};
FrameSpot get_sigframe(const task_struct& t, const pt_regs& regs, const k_sigaction& ka, size_t frame_size, bool ia32) {
    uint64_t sp = ia32 ? (regs.sp & 0xffffffffu) : regs.sp - 128;  // the x86-64 red zone
    bool on_alt = on_sig_stack(t, sp);
    if ((ka.flags & SA_ONSTACK) && sas_ss_flags(t, sp) == 0) {
        sp = t.sas_ss_sp + t.sas_ss_size;
        on_alt = true;
    }
    FrameSpot spot;
    sp = (sp - FXSAVE_SIZE) & ~63ull;
    spot.fpstate = sp;
    if (ia32) {  // the legacy fsave header precedes the fxsave image
        sp -= FREGS_SIZE;
        spot.fpstate = sp;
    }
    sp -= frame_size;
    sp = ia32 ? ((sp + 4) & ~15ull) - 4 : (sp & ~15ull) - 8;
    if (on_alt && !on_sig_stack(t, sp)) return {};
    spot.frame = sp;
    return spot;
}

// Writes the FPU state at fpstate: fxsave (x86-64) or fsave header + fxsave (i386).
bool save_fpstate(mm_struct& mm, const pt_regs& regs, uint64_t fpstate, bool ia32) {
    if (!ia32) return copy_to_user(mm, VirtAddr(fpstate), regs.fxsave, FXSAVE_SIZE);
    uint8_t legacy[FREGS_SIZE] = {};
    const uint8_t* fx = regs.fxsave;
    uint32_t cwd = 0xffff0000u | fx[0] | (fx[1] << 8), swd = 0xffff0000u | fx[2] | (fx[3] << 8);
    uint32_t twd = 0xffff0000u;
    for (int i = 0; i < 8; ++i)  // abridged tag -> full tag: in use 00 (valid), empty 11
        if (!(fx[4] & (1 << i))) twd |= 3u << (2 * i);
    std::memcpy(legacy, &cwd, 4);
    std::memcpy(legacy + 4, &swd, 4);
    std::memcpy(legacy + 8, &twd, 4);
    std::memcpy(legacy + 12, fx + 8, 4);   // fip
    std::memcpy(legacy + 16, fx + 12, 2);  // fcs
    std::memcpy(legacy + 20, fx + 16, 4);  // foo
    std::memcpy(legacy + 24, fx + 20, 2);  // fos
    for (int i = 0; i < 8; ++i) std::memcpy(legacy + 28 + 10 * i, fx + 32 + 16 * i, 10);
    std::memcpy(legacy + 108, fx + 2, 2);  // status; magic 0x0000: fxsave data follows
    return copy_to_user(mm, VirtAddr(fpstate), legacy, FREGS_SIZE) &&
           copy_to_user(mm, VirtAddr(fpstate + FREGS_SIZE), regs.fxsave, FXSAVE_SIZE);
}

// Reads the FPU state back for sigreturn; no state (fpstate 0) means the initial state.
bool restore_fpstate(mm_struct& mm, pt_regs& regs, uint64_t fpstate, bool ia32) {
    if (!fpstate) {
        fpu_init_state(regs.fxsave);
        return true;
    }
    if (!copy_from_user(mm, regs.fxsave, VirtAddr(fpstate + (ia32 ? FREGS_SIZE : 0)), FXSAVE_SIZE)) return false;
    uint32_t mxcsr;
    std::memcpy(&mxcsr, regs.fxsave + 24, 4);
    mxcsr &= 0xffff;  // mxcsr_feature_mask: reserved bits cannot be set
    std::memcpy(regs.fxsave + 24, &mxcsr, 4);
    return true;
}

sigcontext64 sigcontext_of(const task_struct& t, const pt_regs& r, uint64_t fpstate) {
    sigcontext64 sc{};
    sc.r8 = r.r8, sc.r9 = r.r9, sc.r10 = r.r10, sc.r11 = r.r11, sc.r12 = r.r12, sc.r13 = r.r13;
    sc.r14 = r.r14, sc.r15 = r.r15, sc.di = r.di, sc.si = r.si, sc.bp = r.bp, sc.bx = r.bx;
    sc.dx = r.dx, sc.ax = r.ax, sc.cx = r.cx, sc.sp = r.sp, sc.ip = r.ip, sc.flags = r.flags;
    sc.cs = r.cs, sc.gs = 0, sc.fs = 0, sc.ss = r.ss;
    sc.err = t.thread.error_code, sc.trapno = t.thread.trap_nr, sc.oldmask = t.saved_sigmask.value_or(t.blocked),
    sc.cr2 = t.thread.cr2;
    sc.fpstate = fpstate;
    return sc;
}

sigcontext32 sigcontext32_of(const task_struct& t, const pt_regs& r, uint64_t fpstate) {
    sigcontext32 sc{};
    sc.gs = r.gs, sc.fs = r.fs, sc.es = r.es, sc.ds = r.ds;
    sc.di = static_cast<uint32_t>(r.di), sc.si = static_cast<uint32_t>(r.si), sc.bp = static_cast<uint32_t>(r.bp);
    sc.sp = static_cast<uint32_t>(r.sp), sc.bx = static_cast<uint32_t>(r.bx), sc.dx = static_cast<uint32_t>(r.dx);
    sc.cx = static_cast<uint32_t>(r.cx), sc.ax = static_cast<uint32_t>(r.ax);
    sc.trapno = static_cast<uint32_t>(t.thread.trap_nr), sc.err = static_cast<uint32_t>(t.thread.error_code);
    sc.ip = static_cast<uint32_t>(r.ip), sc.cs = r.cs, sc.flags = static_cast<uint32_t>(r.flags);
    sc.sp_at_signal = static_cast<uint32_t>(r.sp), sc.ss = r.ss;
    sc.fpstate = static_cast<uint32_t>(fpstate),
    sc.oldmask = static_cast<uint32_t>(t.saved_sigmask.value_or(t.blocked));
    sc.cr2 = static_cast<uint32_t>(t.thread.cr2);
    return sc;
}

// x86-64 rt frame; false when it cannot be written (the caller forces SIGSEGV).
bool setup_rt_frame64(task_struct& t, const ksignal& ks, pt_regs& regs) {
    if (!(ks.ka.flags & SA_RESTORER)) return false;  // x86-64 always has a restorer
    FrameSpot spot = get_sigframe(t, regs, ks.ka, sizeof(rt_sigframe64), false);
    if (!spot.frame || !save_fpstate(*t.mm, regs, spot.fpstate, false)) return false;
    rt_sigframe64 f{};
    f.pretcode = ks.ka.restorer;
    f.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    f.uc.uc_stack = {t.sas_ss_sp, sas_ss_flags(t, regs.sp), 0, t.sas_ss_size};
    f.uc.uc_mcontext = sigcontext_of(t, regs, spot.fpstate);
    f.uc.uc_sigmask = t.saved_sigmask.value_or(t.blocked);
    f.info.si_signo = ks.info.si_signo, f.info.si_errno = ks.info.si_errno, f.info.si_code = ks.info.si_code;
    fill_siginfo_fields(ks.info, f.info.fields, 8);
    if (!copy_to_user(*t.mm, VirtAddr(spot.frame), &f, sizeof f)) return false;
    regs.di = static_cast<uint64_t>(ks.sig);
    regs.si = spot.frame + offsetof(rt_sigframe64, info);
    regs.dx = spot.frame + offsetof(rt_sigframe64, uc);
    regs.ax = 0;
    regs.ip = ks.ka.handler;
    regs.sp = spot.frame;
    regs.cs = USER_CS64, regs.ss = USER_DS64;
    return true;
}

// i386 frames: rt_sigframe for SA_SIGINFO handlers, the old sigframe otherwise.
bool setup_frame32(task_struct& t, const ksignal& ks, pt_regs& regs) {
    const bool rt = ks.ka.flags & SA_SIGINFO;
    FrameSpot spot = get_sigframe(t, regs, ks.ka, rt ? sizeof(rt_sigframe32) : sizeof(sigframe32), true);
    if (!spot.frame || !save_fpstate(*t.mm, regs, spot.fpstate, true)) return false;
    const bool restorer = ks.ka.flags & SA_RESTORER;
    // Without SA_RESTORER the handler returns into the vDSO's trampoline; the retcode bytes
    // stay in the frame for debuggers, as Linux writes them (ia32_setup_frame).
    const vdso_pages* vdso = t.kernel ? t.kernel->vdso() : nullptr;
    auto trampoline = [&](uint64_t sym, uint64_t retcode) -> uint32_t {
        if (restorer) return static_cast<uint32_t>(ks.ka.restorer);
        if (t.mm->context_vdso && vdso && sym) return static_cast<uint32_t>(t.mm->context_vdso + sym);
        return static_cast<uint32_t>(spot.frame + retcode);
    };
    if (rt) {
        rt_sigframe32 f{};
        f.sig = ks.sig;
        f.pinfo = static_cast<uint32_t>(spot.frame + offsetof(rt_sigframe32, info));
        f.puc = static_cast<uint32_t>(spot.frame + offsetof(rt_sigframe32, uc));
        f.info.si_signo = ks.info.si_signo, f.info.si_errno = ks.info.si_errno, f.info.si_code = ks.info.si_code;
        fill_siginfo_fields(ks.info, f.info.fields, 4);
        f.uc.uc_stack = {static_cast<uint32_t>(t.sas_ss_sp), sas_ss_flags(t, regs.sp),
                         static_cast<uint32_t>(t.sas_ss_size)};
        f.uc.uc_mcontext = sigcontext32_of(t, regs, spot.fpstate);
        f.uc.uc_sigmask = t.saved_sigmask.value_or(t.blocked);
        const uint8_t code[8] = {0xb8, NR_rt_sigreturn_32, 0, 0, 0, 0xcd, 0x80, 0};  // movl $173,%eax; int $0x80
        std::memcpy(f.retcode, code, 8);
        f.pretcode = trampoline(vdso ? vdso->image->sym___kernel_rt_sigreturn : 0, offsetof(rt_sigframe32, retcode));
        if (!copy_to_user(*t.mm, VirtAddr(spot.frame), &f, sizeof f)) return false;
        regs.dx = f.pinfo;
        regs.cx = f.puc;
    } else {
        sigframe32 f{};
        f.sig = ks.sig;
        f.sc = sigcontext32_of(t, regs, spot.fpstate);
        f.extramask = static_cast<uint32_t>(t.saved_sigmask.value_or(t.blocked) >> 32);
        const uint8_t code[8] = {0x58, 0xb8, NR_sigreturn_32, 0, 0, 0,
                                 0xcd, 0x80};  // popl %eax; movl $119,%eax; int $0x80
        std::memcpy(f.retcode, code, 8);
        f.pretcode = trampoline(vdso ? vdso->image->sym___kernel_sigreturn : 0, offsetof(sigframe32, retcode));
        if (!copy_to_user(*t.mm, VirtAddr(spot.frame), &f, sizeof f)) return false;
        regs.dx = 0;
        regs.cx = 0;
    }
    regs.ax = static_cast<uint64_t>(ks.sig);
    regs.ip = ks.ka.handler & 0xffffffffu;
    regs.sp = spot.frame;
    regs.cs = USER_CS32, regs.ss = USER_DS32, regs.ds = USER_DS32, regs.es = USER_DS32;
    return true;
}

// Sets the handler's signal mask and resets a one-shot action (signal_delivered).
void signal_delivered(task_struct& t, const ksignal& ks) {
    t.blocked |= ks.ka.mask;
    if (!(ks.ka.flags & SA_NODEFER)) t.blocked |= sigmask(ks.sig);
    t.blocked &= ~(sigmask(SIGKILL_) | sigmask(SIGSTOP_));
    if (ks.ka.flags & SA_RESETHAND) t.sighand->action[ks.sig - 1].handler = 0;  // SA_ONESHOT: the handler alone
    if (t.sas_ss_flags & SS_AUTODISARM) {  // sas_ss_reset once the handler runs on it
        t.sas_ss_sp = t.sas_ss_size = 0;
        t.sas_ss_flags = SS_DISABLE;
    }
}

// force_sigsegv: a frame that cannot be built kills with SIGSEGV, even if it is handled.
void force_sigsegv(task_struct& t, int sig) {
    if (sig == SIGSEGV_) t.sighand->action[SIGSEGV_ - 1] = k_sigaction{};
    kernel_siginfo si;
    si.si_signo = SIGSEGV_;
    si.si_code = SI_KERNEL;
    send_signal(t, si, true);
}

// Restores the stack_t saved in a frame (restore_altstack), unless running on it.
void restore_altstack(task_struct& t, uint64_t sp, int flags, uint64_t size, uint64_t cur_sp) {
    if (on_sig_stack(t, cur_sp)) return;
    if (flags & SS_DISABLE) {
        t.sas_ss_sp = t.sas_ss_size = 0;
        t.sas_ss_flags = SS_DISABLE;
    } else {
        t.sas_ss_sp = sp;
        t.sas_ss_size = size;
        t.sas_ss_flags = flags & SS_AUTODISARM;
    }
}

// The registers and FPU state an i386 frame saved (ia32_restore_sigcontext).
void restore_sigcontext32(mm_struct& mm, task_struct& t, pt_regs& regs, const sigcontext32& sc) {
    regs.gs = sc.gs, regs.fs = sc.fs, regs.es = sc.es, regs.ds = sc.ds;
    regs.di = sc.di, regs.si = sc.si, regs.bp = sc.bp, regs.sp = sc.sp, regs.bx = sc.bx;
    regs.dx = sc.dx, regs.cx = sc.cx, regs.ax = sc.ax, regs.ip = sc.ip;
    regs.flags = (regs.flags & ~FIX_EFLAGS) | (sc.flags & FIX_EFLAGS);
    regs.cs = USER_CS32, regs.ss = USER_DS32;
    if (!restore_fpstate(mm, regs, sc.fpstate, true)) force_sigsegv(t, 0);
}

void set_blocked(task_struct& t, uint64_t mask) { t.blocked = mask & ~(sigmask(SIGKILL_) | sigmask(SIGSTOP_)); }

// The syscall the registers are leaving, or -1 (syscall_get_nr), and its error, or 0
// (syscall_get_error); i386 values are sign-extended from 32 bits.
long syscall_get_nr(const task_struct& t, const pt_regs& r) {
    return t.is_compat() ? static_cast<int32_t>(r.orig_ax) : static_cast<long>(r.orig_ax);
}
long syscall_get_error(const task_struct& t, const pt_regs& r) {
    const long v = t.is_compat() ? static_cast<int32_t>(r.ax) : static_cast<long>(r.ax);
    return v < 0 && v >= -4095 ? v : 0;
}

// Back to the syscall instruction (`syscall` and `int $0x80` are both 2 bytes) with its
// number in ax, so that it runs again.
void restart_syscall_insn(pt_regs& r, uint64_t nr) {
    r.ax = nr;
    r.ip -= 2;
}

// A handler is about to run on an interrupted syscall (handle_signal): EINTR, or with
// SA_RESTART an ERESTARTSYS call runs again after the handler, as ERESTARTNOINTR always does.
void restart_for_handler(const task_struct& t, pt_regs& r, const k_sigaction& ka) {
    if (syscall_get_nr(t, r) == -1) return;
    switch (syscall_get_error(t, r)) {
    case -ERESTART_RESTARTBLOCK:
    case -ERESTARTNOHAND: r.ax = static_cast<uint64_t>(-EINTR); break;
    case -ERESTARTSYS:
        if (!(ka.flags & SA_RESTART)) {
            r.ax = static_cast<uint64_t>(-EINTR);
            break;
        }
        [[fallthrough]];
    case -ERESTARTNOINTR: restart_syscall_insn(r, r.orig_ax); break;
    }
}

// The signal needed no handler (it was ignored): the syscall runs again, an interrupted
// sleep through restart_syscall (arch_do_signal_or_restart). True when r changed.
bool restart_without_handler(const task_struct& t, pt_regs& r) {
    constexpr uint64_t NR_restart_syscall_64 = 219, NR_restart_syscall_32 = 0;
    if (syscall_get_nr(t, r) == -1) return false;
    switch (syscall_get_error(t, r)) {
    case -ERESTARTNOHAND:
    case -ERESTARTSYS:
    case -ERESTARTNOINTR: restart_syscall_insn(r, r.orig_ax); break;
    case -ERESTART_RESTARTBLOCK:
        restart_syscall_insn(r, t.is_compat() ? NR_restart_syscall_32 : NR_restart_syscall_64);
        break;
    default: return false;
    }
    r.orig_ax = ~0ull;
    return true;
}

}  // namespace

std::array<uint8_t, 128> siginfo_to_user(const kernel_siginfo& info, bool compat) {
    std::array<uint8_t, 128> out{};
    if (compat) {
        siginfo32 si{info.si_signo, info.si_errno, info.si_code, {}};
        fill_siginfo_fields(info, si.fields, 4);
        static_assert(sizeof si == 128);
        std::memcpy(out.data(), &si, sizeof si);
    } else {
        siginfo64 si{info.si_signo, info.si_errno, info.si_code, 0, {}};
        fill_siginfo_fields(info, si.fields, 8);
        static_assert(sizeof si == 128);
        std::memcpy(out.data(), &si, sizeof si);
    }
    return out;
}

void do_signal(task_struct& task) {
    pt_regs regs;
    task.cpu->get_regs(regs);
    bool delivered = false;
    ksignal ks;
    while (get_signal(task, ks)) {
        pt_regs frame_regs = regs;
        restart_for_handler(task, frame_regs, ks.ka);
        const bool ok = task.is_compat() ? setup_frame32(task, ks, frame_regs) : setup_rt_frame64(task, ks, frame_regs);
        if (!ok) {
            force_sigsegv(task, ks.sig);
            continue;
        }
        regs = frame_regs;
        regs.orig_ax = ~0ull;  // the syscall is dealt with; a second handler's frame just stacks
        regs.flags &= ~(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
        fpu_init_state(regs.fxsave);
        task.saved_sigmask.reset();  // the frame holds it now: sigreturn restores it
        signal_delivered(task, ks);
        delivered = true;
    }
    if (task.exited) return;
    const bool restarted = !delivered && restart_without_handler(task, regs);
    if (task.saved_sigmask) {  // nothing was delivered after all: restore_saved_sigmask
        task.blocked = *task.saved_sigmask;
        task.saved_sigmask.reset();
    }
    if (delivered || restarted) task.cpu->set_regs(regs);
}

long sys_rt_sigreturn(SysCtx& c, const uint64_t*) {
    task_struct& t = c.task;
    pt_regs regs;
    t.cpu->get_regs(regs);
    t.restart_block.fn = nullptr;  // a restart pending before the handler returns EINTR now
    regs.orig_ax = ~0ull;          // the restored registers are no syscall's to restart
    if (!c.compat) {
        rt_sigframe64 f;
        if (!copy_from_user(c.mm, &f, VirtAddr(regs.sp - 8), sizeof f)) {
            force_sigsegv(t, 0);
            return 0;
        }
        const sigcontext64& sc = f.uc.uc_mcontext;
        set_blocked(t, f.uc.uc_sigmask);
        regs.r8 = sc.r8, regs.r9 = sc.r9, regs.r10 = sc.r10, regs.r11 = sc.r11, regs.r12 = sc.r12;
        regs.r13 = sc.r13, regs.r14 = sc.r14, regs.r15 = sc.r15, regs.di = sc.di, regs.si = sc.si;
        regs.bp = sc.bp, regs.bx = sc.bx, regs.dx = sc.dx, regs.ax = sc.ax, regs.cx = sc.cx;
        const uint64_t cur_sp = regs.sp;
        regs.sp = sc.sp, regs.ip = sc.ip;
        regs.flags = (regs.flags & ~FIX_EFLAGS) | (sc.flags & FIX_EFLAGS);
        regs.cs = USER_CS64, regs.ss = USER_DS64;
        if (!restore_fpstate(c.mm, regs, sc.fpstate, false)) force_sigsegv(t, 0);
        restore_altstack(t, f.uc.uc_stack.ss_sp, f.uc.uc_stack.ss_flags, f.uc.uc_stack.ss_size, cur_sp);
    } else {
        rt_sigframe32 f;
        if (!copy_from_user(c.mm, &f, VirtAddr((regs.sp - 4) & 0xffffffffu), sizeof f)) {
            force_sigsegv(t, 0);
            return 0;
        }
        set_blocked(t, f.uc.uc_sigmask);
        const uint64_t cur_sp = regs.sp;
        restore_sigcontext32(c.mm, t, regs, f.uc.uc_mcontext);
        restore_altstack(t, f.uc.uc_stack.ss_sp, f.uc.uc_stack.ss_flags, f.uc.uc_stack.ss_size, cur_sp);
    }
    t.cpu->set_regs(regs);
    return c.compat ? static_cast<int32_t>(regs.ax) : static_cast<long>(regs.ax);
}

long sys_sigreturn(SysCtx& c, const uint64_t*) {
    task_struct& t = c.task;
    pt_regs regs;
    t.cpu->get_regs(regs);
    t.restart_block.fn = nullptr;
    regs.orig_ax = ~0ull;
    sigframe32 f;
    if (!copy_from_user(c.mm, &f, VirtAddr((regs.sp - 8) & 0xffffffffu), sizeof f)) {
        force_sigsegv(t, 0);
        return 0;
    }
    set_blocked(t, f.sc.oldmask | (static_cast<uint64_t>(f.extramask) << 32));
    restore_sigcontext32(c.mm, t, regs, f.sc);
    t.cpu->set_regs(regs);
    return static_cast<int32_t>(regs.ax);  // the i386 eax, as strace shows it
}

}  // namespace guestos
