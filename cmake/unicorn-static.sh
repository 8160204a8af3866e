#!/usr/bin/env bash
# unicorn-static.sh LIBUNICORN_A OUT_A SYMBOL...
#
# Copies Debian's libunicorn.a to OUT_A so that emu can link it statically and still replace
# the library functions it interposes (emu/unicorn_fixes.cpp; docs/unicorn.md). In the shared
# library those functions are replaced because libunicorn calls them through its PLT. In an
# archive, a call from the member that defines the function is already bound to it... unless
# the relocation names the global symbol, which every such call in Unicorn 2.0.1 does (its
# objects are -fPIC, so gcc neither inlines nor clones an exported function): so, in the member
# that defines each SYMBOL, the definition is made weak (emu's strong one wins for every call
# site, in that member and in the others) and the original body gets a second, global name,
# SYMBOL_unicorn, through which emu calls it. The script checks, and fails otherwise, that
#  - exactly one member defines each SYMBOL, as a global function;
#  - no local copy of it exists (SYMBOL.constprop.0, .isra.0, .part.0, .cold: a call there
#    would bypass emu), in any member;
#  - after the rewrite, the member defines SYMBOL weak and SYMBOL_unicorn at the same address.
# The call sites themselves are relocations against SYMBOL (objdump -dr): the linker binds
# every one to emu's definition.
set -euo pipefail

[[ $# -ge 3 ]] || { echo "usage: $0 LIBUNICORN_A OUT_A SYMBOL..." >&2; exit 2; }
in=$1 out=$2
shift 2
AR=${AR:-ar} NM=${NM:-nm} OBJCOPY=${OBJCOPY:-objcopy} READELF=${READELF:-readelf}
die() { echo "unicorn-static: $*" >&2; exit 1; }

work=$(mktemp -d "${out}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$in" "$work/lib.a"

# One pass over the archive: "member instance symbol type value" for every defined symbol
# (instance: the how-manyth member of that name, as `ar xN` counts; Debian's archive holds
# one cputlb.c.o per qemu target).
"$NM" --defined-only "$in" 2>/dev/null | awk '
    /^$/ { next }
    /:$/ { m = substr($0, 1, length($0) - 1); n[m]++; next }
    NF == 3 { print m, n[m], $3, $2, $1 }' >"$work/defs"

declare -A member_of instance_of
for sym in "$@"; do
    rows=$(awk -v s="$sym" '$3 == s' "$work/defs")
    [[ -n $rows ]] || die "$in defines no $sym"
    [[ $(wc -l <<<"$rows") -eq 1 ]] || die "$sym is defined more than once in $in: $rows"
    read -r m i _ type _ <<<"$rows"
    [[ $type == T ]] || die "$sym is not a global function in $m ($type)"
    clones=$(awk -v s="$sym" 'index($3, s ".") == 1' "$work/defs")
    [[ -z $clones ]] || die "$in has local copies of $sym that a call could reach instead of emu's: $clones"
    member_of[$sym]=$m
    instance_of[$sym]=$i
done

# Rewrite each member once, with all its symbols.
declare -A done_member
cd "$work"
for sym in "$@"; do
    key="${member_of[$sym]}#${instance_of[$sym]}"
    [[ -z ${done_member[$key]:-} ]] || continue
    done_member[$key]=1
    m=${member_of[$sym]} i=${instance_of[$sym]}
    rm -rf x && mkdir x && (cd x && "$AR" xN "$i" ../lib.a "$m")
    args=()
    for s in "$@"; do
        [[ "${member_of[$s]}#${instance_of[$s]}" == "$key" ]] || continue
        # The symbol's section and value, from the member's symbol table.
        read -r value shndx < <("$READELF" -sW "x/$m" | awk -v s="$s" '$8 == s { print $2, $7 }')
        [[ -n ${value:-} ]] || die "cannot find $s in $m"
        section=$("$READELF" -SW "x/$m" | sed -n 's/^ *\[ *'"$shndx"'\] \([^ ]*\) .*/\1/p')
        [[ -n $section ]] || die "cannot find the section of $s in $m"
        args+=(--weaken-symbol="$s" --add-symbol="${s}_unicorn=${section}:0x${value},global,function")
    done
    "$OBJCOPY" "${args[@]}" "x/$m" "emu-$m"
    rm -rf x
    for s in "$@"; do
        [[ "${member_of[$s]}#${instance_of[$s]}" == "$key" ]] || continue
        "$NM" "emu-$m" | awk -v s="$s" '$3 == s && $2 == "W" { w = $1 } $3 == s "_unicorn" && $2 == "T" { t = $1 }
            END { exit !(w != "" && w == t) }' || die "rewriting $s in $m failed"
    done
    "$AR" dN "$i" lib.a "$m"
    "$AR" q lib.a "emu-$m"
done
"$AR" s lib.a
mv lib.a "$out"
