# Read by busybox sh under emu (tests/oracle: dev_writable): /dev is a tmpfs as devtmpfs is,
# so syslogd can bind its socket at /dev/log, and mkdir, mknod, symlink and a regular file
# work there, while the device nodes and links keep working. Prints "dev writable: N failures".
f=0
fail() { echo "FAIL: $*"; f=$((f+1)); }
[ "$(stat -f -c %T /dev)" = tmpfs ] || fail "statfs type $(stat -f -c %T /dev)"
grep -q '^devtmpfs /dev devtmpfs ' /proc/mounts || fail "no devtmpfs line: $(grep ' /dev ' /proc/mounts)"
[ "$(stat -c %a /dev)" = 755 ] || fail "mode $(stat -c %a /dev)"
[ -c /dev/null ] && [ -c /dev/zero ] && [ -c /dev/full ] && [ -c /dev/random ] && [ -c /dev/urandom ] &&
    [ -c /dev/tty ] || fail "character devices"
[ "$(stat -c %t:%T /dev/null)" = 1:3 ] || fail "null's rdev $(stat -c %t:%T /dev/null)"
echo hidden >/dev/null || fail "write null"
[ "$(head -c 4 /dev/zero | od -An -tx1 | tr -d ' ')" = 00000000 ] || fail "zero"
echo x 2>/dev/null >/dev/full && fail "full took a write"
[ "$(head -c 16 /dev/urandom | wc -c)" = 16 ] || fail "urandom"
[ "$(readlink /dev/fd)" = /proc/self/fd ] && [ "$(readlink /dev/stdin)" = /proc/self/fd/0 ] &&
    [ "$(readlink /dev/stdout)" = /proc/self/fd/1 ] && [ "$(readlink /dev/stderr)" = /proc/self/fd/2 ] ||
    fail "links"
echo to-stdout >/dev/stdout | true
[ -d /dev/fd/ ] || fail "/dev/fd/ is no directory"
[ "$(stat -f -c %T /dev/shm)" = tmpfs ] && [ "$(stat -c %a /dev/shm)" = 1777 ] || fail "/dev/shm"
echo shm >/dev/shm/dev_writable.$$ && [ "$(cat /dev/shm/dev_writable.$$)" = shm ] || fail "file in /dev/shm"
rm -f /dev/shm/dev_writable.$$

# What a program may make in /dev.
mkdir /dev/emu_dir || fail "mkdir"
[ -d /dev/emu_dir ] || fail "no directory"
ln -s null /dev/emu_link || fail "symlink"
echo through-link >/dev/emu_link || fail "write through the link"
mknod /dev/emu_null c 1 3 || fail "mknod"
echo into-null >/dev/emu_null && [ -z "$(cat /dev/emu_null)" ] || fail "the new node is no null"
mknod /dev/emu_fifo p || fail "mkfifo"
echo regular >/dev/emu_file && [ "$(cat /dev/emu_file)" = regular ] || fail "regular file"
mv /dev/emu_file /dev/emu_dir/ || fail "rename"
ls /dev | grep -q '^emu_dir$' || fail "ls"
rm -r /dev/emu_dir /dev/emu_link /dev/emu_null /dev/emu_fifo || fail "rm"
[ -e /dev/emu_null ] && fail "still there"

# syslogd on /dev/log, logger through it.
log=/tmp/dev_writable.log.$$
syslogd -n -O $log &
pid=$!
i=0
while [ ! -S /dev/log ] && [ $i -lt 500 ]; do usleep 10000; i=$((i+1)); done
[ -S /dev/log ] || fail "no /dev/log socket"
logger -t emutest hello from logger
i=0
while ! grep -q 'hello from logger' $log 2>/dev/null && [ $i -lt 500 ]; do usleep 10000; i=$((i+1)); done
grep -q 'emutest: hello from logger' $log || fail "the log has no line: $(cat $log 2>&1)"
kill $pid
wait $pid 2>/dev/null
rm -f $log /dev/log
echo "dev writable: $f failures"
