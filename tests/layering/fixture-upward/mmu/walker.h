// A deliberate upward include: mmu must not see guestos (the layering test must fail here).
#pragma once
#include "guestos/include/mm_types.h"
