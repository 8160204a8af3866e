# cmake -DIN=FILE -DOUT=FILE.cpp -DNAME=ident -DPAD=bytes -P embed.cmake
# Writes FILE's bytes, zero-padded to a multiple of PAD, as a C++ array NAME in namespace
# guestos (with NAME_size), so that the vDSO images built at build time link into emu.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
if(PAD)
  math(EXPR padded "(${size} + ${PAD} - 1) / ${PAD} * ${PAD}")
else()
  set(padded ${size})
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "// Generated from ${IN} by cmake/embed.cmake: do not edit.\n#include <cstddef>\nnamespace guestos {\nextern const unsigned char ${NAME}[${padded}] = {\n${bytes}\n};\nextern const std::size_t ${NAME}_size = ${padded};\n}  // namespace guestos\n")
