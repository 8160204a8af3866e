# busybox over AF_INET on loopback: nc sends a file to an nc listener, then wget fetches a
# page from httpd. The port is made from the shell's pid (it is never printed); clients
# retry until the server listens.
port=$((20000 + $$ % 20000))
dir=/tmp/inet.$$
mkdir -p $dir/www
echo "a line through nc" > $dir/in
echo "a page from httpd" > $dir/www/index.html
busybox nc -l -p $port > $dir/out &
server=$!
i=0
until busybox nc 127.0.0.1 $port < $dir/in 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
wait $server
echo "nc server got: $(cat $dir/out)"
busybox httpd -f -p 127.0.0.1:$port -h $dir/www &
server=$!
i=0
until busybox wget -q -O $dir/page http://127.0.0.1:$port/index.html 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
echo "wget got: $(cat $dir/page)"
busybox wget -q -O - http://127.0.0.1:$port/missing.html 2>&1 | sed 's/^wget: //'
kill $server
wait $server
echo "httpd ended by signal $(($? - 128))"
rm -r $dir
