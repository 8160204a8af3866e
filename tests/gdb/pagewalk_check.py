# Sourced by gdb in the gdb_monitor tests: `monitor pagewalk` of the stack pointer must show a
# present PTE whose frame `monitor phys` reads back as the same bytes gdb's own memory read
# (x/, through the stub's m packet) sees at that address; and `monitor pte` must name the
# same frame.
import re
import gdb

sp = int(gdb.parse_and_eval("(unsigned long)$sp"))
walk = gdb.execute("monitor pagewalk 0x%x" % sp, to_string=True)
print(walk)
pte_line = [l for l in walk.splitlines() if l.strip().startswith("PTE")]
assert pte_line and " P " in pte_line[0] + " " and "US" in pte_line[0], "no present user PTE: " + walk
pfn = int(re.search(r"-> frame pfn 0x([0-9a-f]+)", pte_line[0]).group(1), 16)
phys = int(re.search(r"^  phys 0x([0-9a-f]+)$", walk, re.M).group(1), 16)
assert phys == (pfn << 12) | (sp & 0xfff), (hex(phys), hex(pfn))
dump = gdb.execute("monitor phys 0x%x 16" % phys, to_string=True)
print(dump)
bytes_phys = bytes(int(b, 16) for b in dump.split(":", 1)[1].split())
bytes_virt = bytes(gdb.selected_inferior().read_memory(sp, 16))
assert bytes_phys == bytes_virt, (bytes_phys.hex(), bytes_virt.hex())
pte = gdb.execute("monitor pte 0x%x" % sp, to_string=True)
print(pte)
assert ("-> pfn 0x%x" % pfn) in pte and "anon" in pte, pte
print("pagewalk-check: ok, pfn 0x%x, %s" % (pfn, bytes_virt.hex()))
