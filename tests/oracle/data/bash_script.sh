# bash-static under emu (the oracle.bash_static_script test): functions, arithmetic, arrays,
# pipelines, command substitution, subshells, here-documents, read, traps, exit statuses.
set -u
bb=/bin/busybox
for c in sort tr seq grep wc sleep; do eval "$c() { \$bb $c \"\$@\"; }"; done
fib() { local n=$1; if (( n < 2 )); then echo "$n"; else echo $(( $(fib $((n-1))) + $(fib $((n-2))) )); fi; }
echo "fib 6 = $(fib 6)"
declare -a arr=(zeta alpha mu beta)
echo "sorted: $(printf '%s\n' "${arr[@]}" | sort | tr '\n' ' ')"
declare -A assoc=([one]=1 [two]=2)
echo "assoc two=${assoc[two]} keys=${#assoc[@]}"
sum=0; for ((i = 1; i <= 100; i++)); do (( sum += i )); done; echo "sum $sum"
i=0; while read -r line; do i=$((i + 1)); echo "line $i: ${line^^}"; done <<'DOC'
first line
second line
DOC
printf 'a b c\nd e f\n' | { read -r x y z; read -r p q r; echo "$z$y$x $r$q$p"; }
( cd / && echo "subshell pwd $PWD"; exit 3 ); echo "subshell status $?"
outer=1; ( outer=2 ); echo "outer stays $outer"
trap 'echo "trap USR1 caught"' USR1
kill -USR1 $$
trap 'echo "EXIT trap runs"' EXIT
seq 1 50 | grep 7 | wc -l | { read n; echo "sevens $n"; }
x=$(echo hello | tr a-z A-Z); echo "upper $x"
false || echo "or-branch"; true && echo "and-branch"
case "banana" in ban*) echo "case matched";; *) echo "no";; esac
str="The quick brown fox"; echo "${#str} ${str:4:5} ${str/quick/slow}"
if [[ "abc123" =~ ^[a-z]+([0-9]+)$ ]]; then echo "regex ${BASH_REMATCH[1]}"; fi
sleep 0.05 & wait $!; echo "background waited $?"
{ echo err-line >&2; echo out-line; } 2>/dev/null
read -t 0.05 never < <(sleep 1) || echo "read timed out $?"
exit 0
