# Read by busybox sh from stdin (tests/oracle: oracle.busybox_copy): busybox's cp and cat
# copy with sendfile (file to file, file to pipe), checked by cmp, md5sum and wc.
d=/tmp/iosys_copy.$$
busybox mkdir -p $d
busybox seq 1 300000 > $d/a
busybox cp $d/a $d/b && echo "cp done"
busybox cmp $d/a $d/b && echo "same"
busybox cat $d/a | busybox md5sum
busybox cat $d/b | busybox wc -c
busybox cat $d/a $d/b > $d/c
busybox wc -c < $d/c
busybox cat $d/a | busybox tail -n 2
busybox rm -r $d
