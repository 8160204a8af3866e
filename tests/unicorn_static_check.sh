#!/usr/bin/env bash
# unicorn_static_check.sh EXECUTABLE LIST
#
# For an executable linked with the copy of libunicorn.a (cmake/unicorn-static.sh): every
# function in LIST (emu/unicorn_fixes.list) must be emu's at every call site, and the library's
# own body (NAME_unicorn) must be reached only from emu's NAME. Also checks that no other qemu
# target than x86_64 was linked in (the stand-ins in emu/unicorn_fixes.cpp keep them out).
# Reads the disassembly (objdump -d): a call site that bypassed the interposer would be a call
# to NAME_unicorn from a library function.
set -euo pipefail
exe=$1 list=$2
fail=0
syms=$(grep -oE '[a-z0-9_]+_x86_64' "$list")
[[ -n $syms ]] || { echo "no symbols in $list" >&2; exit 1; }
dis=$(mktemp)
trap 'rm -f "$dis"' EXIT
# "function-containing-the-instruction target" for every direct call and jump.
objdump -d --no-show-raw-insn "$exe" | awk '
    /^[0-9a-f]+ <.*>:$/ { f = $2; gsub(/[<>:]/, "", f); next }
    $2 ~ /^(call|jmp)/ && $NF ~ /^<[^+]*>$/ { t = $NF; gsub(/[<>]/, "", t); print f, t }' >"$dis"
for s in $syms; do
    emu_calls=$(awk -v s="$s" '$2 == s' "$dis" | wc -l)
    real_from=$(awk -v s="$s" '$2 == s "_unicorn" { print $1 }' "$dis" | sort -u)
    if [[ $emu_calls -eq 0 ]]; then
        echo "FAIL $s: no call reaches emu's $s"
        fail=1
    fi
    if [[ $real_from != "$s" ]]; then
        echo "FAIL $s: the library's body is called from: ${real_from:-nowhere} (only emu's $s may)"
        fail=1
    fi
    echo "$s: $emu_calls call sites reach emu's, the library's body only from it"
done
others=$(nm "$exe" | grep -cE ' [Tt] [a-z0-9_]+_(aarch64|arm|armeb|m68k|mips|mipsel|mips64|mips64el|ppc|ppc64|riscv32|riscv64|s390x|sparc|sparc64|tricore)$' || true)
if [[ $others -ne 0 ]]; then
    echo "FAIL: $others functions of other qemu targets are linked in"
    fail=1
fi
exit $fail
