// A public header of emu that exposes Unicorn's types to everything including it.
#include <unicorn/unicorn.h>
