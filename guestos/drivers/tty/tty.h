// The console as an open file: the tty driver's file operations over devices::Console.
#pragma once
#include "devices/console.h"
#include "guestos/include/fs.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

// Whether the file closes its host descriptor when it goes (/dev/tty's does; fds 0-2 stay).
enum class ConsoleOwnsFd { No, Yes };

class console_file final : public file {
public:
    explicit console_file(int host_fd, ConsoleOwnsFd owns = ConsoleOwnsFd::No);
    ~console_file() override;
    long read(uint8_t* buf, uint64_t n, int64_t* pos) override;
    long write(const uint8_t* buf, uint64_t n, int64_t* pos) override;
    // A read or write that would block on the host (a terminal, pipe or socket) sleeps in
    // the guest instead, so other tasks run and a signal ends the wait (n_tty_read's wait).
    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override;
    long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) override;
    long llseek(int64_t offset, int whence) override { return con_.lseek(offset, whence); }
    long getattr(struct stat& st) override { return con_.fstat(st); }
    // Job control's ioctls (tty_jobctrl_ioctl) and the background checks; the rest are the
    // host terminal's.
    long ioctl(unsigned long cmd, uint8_t* arg, size_t& in_len, size_t& out_len) override;
    bool ioctl_sizes(unsigned long cmd, size_t& in_len, size_t& out_len) const override {
        return devices::Console::ioctl_sizes(cmd, in_len, out_len);
    }
    // The host descriptor's own readiness (it is the native program's descriptor); a waiter
    // sleeps until the host says it changed (n_tty_poll, with the host as the line).
    bool can_poll() const override { return true; }
    bool has_splice_read() const override { return true; }   // copy_splice_read
    bool has_splice_write() const override { return true; }  // iter_file_splice_write
    uint32_t poll(poll_table* wait) override;
    long status_flags() override { return con_.status_flags(); }
    long set_status_flags(int flags) override { return con_.set_status_flags(flags); }
    int host_fd() const { return con_.host_fd(); }

private:
    // 0 once the host fd is ready for events (or a non-blocking call must not wait), else
    // -EAGAIN for IOCB_NOWAIT or -ERESTARTSYS when a signal ended the sleep.
    long wait_host_ready(kiocb& iocb, short events, const char* what);
    // The guest's terminal this file is: the console's, when the host fd is emu's
    // controlling terminal (a tty of the same device); else null.
    tty_struct* tty_of(const task_struct& t) const;
    // A background job's read (SIGTTIN) or write with TOSTOP set (SIGTTOU): 0 to go on.
    long job_control(task_struct& t, int sig);

    devices::Console con_;
    ConsoleOwnsFd owns_;
    uint64_t rdev_ = 0;          // the host tty's device, or 0 when the host fd is no tty
    bool never_blocks_ = false;  // a regular host file: no poll before each read or write
    wait_queue_head wq_;         // pollers wait here until the host fd is ready
    host_fd_watch watch_;
};

}  // namespace guestos
