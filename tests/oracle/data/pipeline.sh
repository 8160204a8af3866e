# (No semicolons: CMake would split the script there.) busybox sh: pipelines, command substitution, subshells, && and ||, loops, nested shells, exec.
seq 1000 | sort -rn | head -3
x=$(echo hi | tr a-z A-Z)
echo "substituted: $x"
n=$(seq 50 | wc -l)
echo "lines: $n"
(echo in a subshell
 exit 3)
echo "subshell status: $?"
true && echo and-ok || echo and-failed
false || echo or-ok
for i in 1 2 3
do echo $i
done | wc -l
sh -c 'exit 5'
echo "nested shell status: $?"
exec echo bye
