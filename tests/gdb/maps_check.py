# Sourced by gdb in the gdb_info_proc tests, stopped in gdb_maps's maps_read: `info proc
# mappings` (gdb reads /proc/PID/maps through the stub's vFile packets) must list exactly the
# mappings the program read from its own /proc/self/maps: start, end, offset, permissions and
# name, in order.
import re
import gdb

text = gdb.parse_and_eval("maps_text").string()
want = []
for line in text.splitlines():
    f = line.split(None, 5)
    start, end = (int(x, 16) for x in f[0].split("-"))
    want.append((start, end, int(f[2], 16), f[1], f[5].strip() if len(f) > 5 else ""))
out = gdb.execute("info proc mappings", to_string=True)
print(out)
got = []
for line in out.splitlines():
    m = re.match(r"\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+([r-][w-][x-][ps])\s*(.*)$", line)
    if m:
        got.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16), m.group(4), m.group(5).strip()))
assert len(want) >= 4, text
assert got == want, "info proc mappings:\n%s\n/proc/self/maps:\n%s" % (got, want)
print("maps-check: ok, %d mappings" % len(got))
