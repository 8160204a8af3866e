// gdb's target descriptions for the guest's architecture (qXfer:features:read:target.xml).
#pragma once

namespace gdbstub {

extern const char* const AMD64_TARGET_XML;  // core, sse, linux (orig_rax), segments (fs_base, gs_base)
extern const char* const I386_TARGET_XML;   // core, sse, linux (orig_eax)

}  // namespace gdbstub
