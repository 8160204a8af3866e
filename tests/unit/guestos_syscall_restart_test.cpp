// What happens to a syscall a signal interrupted (arch_do_signal_or_restart, handle_signal):
// each restart code, with and without SA_RESTART, with a handler and with a signal that
// needs none, on both ABIs. A real Kernel and Cpu hold the task (hello.<build> exec'd, not
// run); the registers are set as a syscall's exit leaves them, do_signal runs, and the
// handler's return is played by the sigreturn syscall, so the frame's copy is checked too.
// guestos/include/signal.h comes before the host's <signal.h> (through gtest), whose macros
// (SA_RESTART, sigmask) would clash with its names; below, the host macros stand in for
// them, with the same values (the host is Linux).
#include "guestos/include/signal.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "emu/cpu.h"
#include "guestos/include/kernel.h"

namespace {

using guestos::ERESTART_RESTARTBLOCK;
using guestos::ERESTARTNOHAND;
using guestos::ERESTARTNOINTR;
using guestos::ERESTARTSYS;

struct Abi {
    const char* name;  // hello.<name>
    bool compat;
    uint64_t nr_read, nr_rt_sigreturn, nr_restart_syscall;
};

const Abi X86_64{"x86_64", false, 0, 15, 219};
const Abi I386{"i386", true, 3, 173, 0};

void PrintTo(const Abi& a, std::ostream* os) { *os << a.name; }

constexpr uint64_t HANDLER = 0x401000, RESTORER = 0x401100;
constexpr uint64_t SA_RESTORER_ = 0x04000000;
constexpr uint64_t SIGCHLD_BIT = 1ull << (guestos::SIGCHLD_ - 1);
constexpr uint64_t SYSCALL_IP = 0x402002;  // just after a 2-byte syscall instruction

class SyscallRestartTest : public ::testing::TestWithParam<Abi> {
protected:
    void SetUp() override {
        ASSERT_FALSE(kernel_.boot().is_error());
        kernel_.init_task(task_);
        const std::string path = std::string(EMU_BINARY_DIR "/guest/hello.") + GetParam().name;
        auto ex = kernel_.exec(task_, path, {path}, {});
        ASSERT_FALSE(ex.is_error()) << ex.error().message;
        auto cpu = emu::Cpu::create(kernel_, task_, ex.value(), {});
        ASSERT_FALSE(cpu.is_error()) << cpu.error().message;
        cpu_ = cpu.release_value();
        stack_ = ex.value().stack_pointer;
    }

    uint64_t word(long v) const { return GetParam().compat ? static_cast<uint32_t>(v) : static_cast<uint64_t>(v); }

    // The registers as the read syscall leaves them with `ret` in ax.
    void leave_syscall(long ret) {
        guestos::pt_regs r;
        task_.cpu->get_regs(r);
        r.orig_ax = GetParam().nr_read;
        r.ax = word(ret);
        r.ip = SYSCALL_IP;
        r.sp = stack_;
        task_.cpu->set_regs(r);
    }

    void install_handler(uint64_t flags) {
        task_.sighand->action[guestos::SIGUSR1_ - 1] =
            guestos::k_sigaction{HANDLER, flags | SA_SIGINFO | SA_RESTORER_, RESTORER, 0};
    }

    void send(int sig) {
        guestos::kernel_siginfo si;
        si.si_signo = sig;
        si.si_code = 0;  // SI_USER
        guestos::send_signal(task_, si, false);
    }

    guestos::pt_regs regs() {
        guestos::pt_regs r;
        task_.cpu->get_regs(r);
        return r;
    }

    // The handler returns: its `ret` pops the restorer's address, which calls rt_sigreturn.
    void return_from_handler() {
        guestos::pt_regs r = regs();
        r.sp += GetParam().compat ? 4 : 8;
        r.orig_ax = GetParam().nr_rt_sigreturn;
        task_.cpu->set_regs(r);
        const uint64_t args[6] = {};
        const long ret = kernel_.syscall(task_, GetParam().nr_rt_sigreturn, args);
        r = regs();
        r.ax = word(ret);  // what the syscall exit writes
        task_.cpu->set_regs(r);
    }

    // A signal with a handler interrupts a call that returned `code`; what the call does.
    guestos::pt_regs interrupted_by_handler(long code, uint64_t flags) {
        install_handler(flags);
        leave_syscall(code);
        send(guestos::SIGUSR1_);
        guestos::do_signal(task_);
        EXPECT_EQ(regs().ip, HANDLER);
        return_from_handler();
        return regs();
    }

    // A signal that needs no handler (SIGCHLD at its default, pending because it was
    // blocked) interrupts a call that returned `code`.
    guestos::pt_regs interrupted_without_handler(long code) {
        task_.blocked |= SIGCHLD_BIT;
        send(guestos::SIGCHLD_);
        task_.blocked = 0;
        leave_syscall(code);
        guestos::do_signal(task_);
        return regs();
    }

    void expect_eintr(const guestos::pt_regs& r) {
        EXPECT_EQ(r.ip, SYSCALL_IP);
        EXPECT_EQ(r.ax, word(-EINTR));
    }

    void expect_restart(const guestos::pt_regs& r, uint64_t nr) {
        EXPECT_EQ(r.ip, SYSCALL_IP - 2);
        EXPECT_EQ(r.ax, nr);
    }

    guestos::Kernel kernel_{guestos::KernelConfig{}};
    guestos::task_struct task_;
    std::unique_ptr<emu::Cpu> cpu_;
    uint64_t stack_ = 0;
};

TEST_P(SyscallRestartTest, ErestartsysFailsWithEintrWithoutSaRestart) {
    expect_eintr(interrupted_by_handler(-ERESTARTSYS, 0));
}

TEST_P(SyscallRestartTest, ErestartsysRunsAgainAfterAnSaRestartHandler) {
    expect_restart(interrupted_by_handler(-ERESTARTSYS, SA_RESTART), GetParam().nr_read);
}

TEST_P(SyscallRestartTest, ErestartnohandFailsWithEintrEvenWithSaRestart) {
    expect_eintr(interrupted_by_handler(-ERESTARTNOHAND, SA_RESTART));
}

TEST_P(SyscallRestartTest, ErestartnointrRunsAgainAfterAnyHandler) {
    expect_restart(interrupted_by_handler(-ERESTARTNOINTR, 0), GetParam().nr_read);
}

TEST_P(SyscallRestartTest, ErestartRestartblockFailsWithEintrAfterAHandler) {
    expect_eintr(interrupted_by_handler(-ERESTART_RESTARTBLOCK, SA_RESTART));
}

TEST_P(SyscallRestartTest, EveryCodeRunsAgainWhenNoHandlerRuns) {
    for (long code : {-ERESTARTSYS, -ERESTARTNOHAND, -ERESTARTNOINTR}) {
        SCOPED_TRACE(code);
        expect_restart(interrupted_without_handler(code), GetParam().nr_read);
    }
}

TEST_P(SyscallRestartTest, ErestartRestartblockBecomesRestartSyscallWhenNoHandlerRuns) {
    expect_restart(interrupted_without_handler(-ERESTART_RESTARTBLOCK), GetParam().nr_restart_syscall);
}

TEST_P(SyscallRestartTest, AnErrorThatIsNoRestartCodeIsLeftAlone) {
    const guestos::pt_regs r = interrupted_without_handler(-EAGAIN);
    EXPECT_EQ(r.ip, SYSCALL_IP);
    EXPECT_EQ(r.ax, word(-EAGAIN));
}

// A stop outside a syscall (a fault, the timer) has orig_ax -1: whatever ax holds stays.
TEST_P(SyscallRestartTest, RegistersOutsideASyscallAreNeverRestarted) {
    leave_syscall(-ERESTARTSYS);
    guestos::pt_regs r = regs();
    r.orig_ax = ~0ull;
    task_.cpu->set_regs(r);
    task_.blocked |= SIGCHLD_BIT;
    send(guestos::SIGCHLD_);
    task_.blocked = 0;
    guestos::do_signal(task_);
    EXPECT_EQ(regs().ip, SYSCALL_IP);
    EXPECT_EQ(regs().ax, word(-ERESTARTSYS));
}

// After a handler returns, restart_syscall has nothing left to resume: EINTR.
TEST_P(SyscallRestartTest, SigreturnCancelsAPendingRestartBlock) {
    task_.restart_block.fn = [](guestos::SysCtx&) -> long { return 42; };
    interrupted_by_handler(-ERESTART_RESTARTBLOCK, 0);
    const uint64_t args[6] = {};
    EXPECT_EQ(kernel_.syscall(task_, GetParam().nr_restart_syscall, args), -EINTR);
}

INSTANTIATE_TEST_SUITE_P(Abis, SyscallRestartTest, ::testing::Values(X86_64, I386),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
