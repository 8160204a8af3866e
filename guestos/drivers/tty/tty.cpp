#include "guestos/drivers/tty/tty.h"

#include <unistd.h>

namespace guestos {

console_file::~console_file() {
    if (owns_ == ConsoleOwnsFd::Yes) ::close(con_.host_fd());
}

// A pipe or terminal ignores the position; a regular file given as stdin or stdout moves it
// through the host descriptor's own offset, as with the native program.
long console_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    return (pos == &f_pos) ? con_.read(buf, n) : con_.pread(buf, n, *pos);
}

long console_file::write(const uint8_t* buf, uint64_t n, int64_t* pos) {
    return (pos == &f_pos) ? con_.write(buf, n) : con_.pwrite(buf, n, *pos);
}

}  // namespace guestos
