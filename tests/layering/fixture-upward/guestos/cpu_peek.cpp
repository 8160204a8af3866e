// A deliberate misplaced include: only emu/ may include Unicorn.
#include <unicorn/unicorn.h>
