// The terminal ioctls and the generic file ones (uapi/asm-generic/ioctls.h, FIGETBSZ of
// uapi/linux/fs.h), and the termios flag job control reads.
#pragma once

namespace guestos {

inline constexpr unsigned long TCGETS_ = 0x5401, TCSETS_ = 0x5402, TCSETSW_ = 0x5403, TCSETSF_ = 0x5404,
                               TCGETA_ = 0x5405, TCSETA_ = 0x5406, TCSETAW_ = 0x5407, TCSETAF_ = 0x5408,
                               TCSBRK_ = 0x5409, TCXONC_ = 0x540A, TCFLSH_ = 0x540B, TIOCSCTTY_ = 0x540E,
                               TIOCGPGRP_ = 0x540F, TIOCSPGRP_ = 0x5410, TIOCGWINSZ_ = 0x5413, TIOCSWINSZ_ = 0x5414,
                               FIONREAD_ = 0x541B, FIONBIO_ = 0x5421, TIOCNOTTY_ = 0x5422, TIOCGSID_ = 0x5429,
                               FIONCLEX_ = 0x5450, FIOCLEX_ = 0x5451, FIOASYNC_ = 0x5452, FIOQSIZE_ = 0x5460,
                               FIGETBSZ_ = 2;
inline constexpr unsigned TOSTOP_ = 0000400;  // c_lflag: background writes get SIGTTOU

}  // namespace guestos
