#include "guestos/lib/host_sysctl.h"

#include <cstdio>
#include <string>

namespace guestos {

long host_sysctl(const char* name, long fallback) {
    long v = fallback;
    if (FILE* f = std::fopen(("/proc/sys/" + std::string(name)).c_str(), "r")) {
        if (std::fscanf(f, "%ld", &v) != 1) v = fallback;
        std::fclose(f);
    }
    return v;
}

}  // namespace guestos
