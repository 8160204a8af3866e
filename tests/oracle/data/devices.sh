# Read by busybox sh from stdin (tests/oracle: oracle.busybox_devices): the /dev nodes a
# shell script uses, with builtins only.
echo hidden >/dev/null && echo "null ok"
read -n 4 z </dev/zero; echo "zero gives ${#z} characters before its NUL"
read -n 1 r </dev/urandom; echo "urandom opened: $?" >/dev/null; echo "urandom read"
echo "appended to stdout" >>/dev/stdout
echo "to stderr" 2>/dev/null >/dev/stderr
echo x >/dev/full 2>/dev/null || echo "full fails"
[ -c /dev/null ] && [ -c /dev/zero ] && [ -c /dev/urandom ] && echo "character devices"
[ -L /dev/stdin ] && [ -L /dev/fd ] && echo "links"
[ -d /proc/self ] && [ -L /proc/self ] && echo "/proc/self is a link to a directory"
cd / && pwd
cd /dev && pwd
