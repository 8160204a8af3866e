// unixnet: Go's net package over AF_UNIX (nonblocking sockets, accept4, epoll): a stream
// server on a path and one on an abstract name, each serving concurrent clients that send
// a line and read it back in upper case; the names Addr() reports; a datagram server that
// answers each sender at its own abstract name; a seqpacket pair; the errors of dialling
// a missing path and of listening on a taken one. Names hold the pid, so only their shape
// is printed.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

// serve answers each connection's lines in upper case until the client closes.
func serve(l net.Listener, n int, done *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		c, err := l.Accept()
		check(err)
		done.Add(1)
		go func(c net.Conn) {
			defer done.Done()
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				fmt.Fprint(c, strings.ToUpper(line))
			}
		}(c)
	}
}

// clients dial addr n times at once; each sends two lines and collects the answers.
func clients(network, addr string, n int) []string {
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial(network, addr)
			check(err)
			defer c.Close()
			r := bufio.NewReader(c)
			var answers []string
			for j := 0; j < 2; j++ {
				fmt.Fprintf(c, "client %d line %d\n", i, j)
				line, err := r.ReadString('\n')
				check(err)
				answers = append(answers, strings.TrimSpace(line))
			}
			mu.Lock()
			got = append(got, strings.Join(answers, " / "))
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	sort.Strings(got)
	return got
}

func stream(network, addr, what string) {
	l, err := net.Listen(network, addr)
	check(err)
	fmt.Printf("%s: listening, name as given %v\n", what, l.Addr().String() == addr)
	var done sync.WaitGroup
	go serve(l, 8, &done)
	for _, line := range clients(network, addr, 8) {
		fmt.Printf("%s: %s\n", what, line)
	}
	done.Wait()
	check(l.Close())
}

func datagrams(path string) {
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	check(err)
	go func() {
		buf := make([]byte, 64)
		for i := 0; i < 3; i++ {
			n, from, err := srv.ReadFromUnix(buf)
			check(err)
			_, err = srv.WriteToUnix([]byte(strings.ToUpper(string(buf[:n]))), from)
			check(err)
		}
	}()
	for i := 0; i < 3; i++ {
		// An abstract local name, so the server can answer the client.
		local := &net.UnixAddr{Name: fmt.Sprintf("@unixnet.%d.%d", os.Getpid(), i), Net: "unixgram"}
		c, err := net.DialUnix("unixgram", local, &net.UnixAddr{Name: path, Net: "unixgram"})
		check(err)
		_, err = c.Write([]byte(fmt.Sprintf("datagram %d", i)))
		check(err)
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		check(err)
		fmt.Printf("unixgram: %s (local name as given %v)\n", buf[:n], c.LocalAddr().String() == local.Name)
		c.Close()
	}
	srv.Close()
}

func main() {
	dir, err := os.MkdirTemp("", "unixnet")
	check(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sock")
	stream("unix", path, "path")
	l, err := net.Listen("unix", path)
	check(err)
	_, err = net.Listen("unix", path)
	fmt.Println("listen on a path in use:", err != nil && strings.Contains(err.Error(), "address already in use"))
	l.Close()
	_, err = net.Dial("unix", filepath.Join(dir, "missing"))
	fmt.Println("dial a missing path:", err != nil && strings.Contains(err.Error(), "no such file or directory"))
	stream("unix", fmt.Sprintf("@unixnet.%d", os.Getpid()), "abstract")
	stream("unixpacket", filepath.Join(dir, "packet"), "seqpacket")
	datagrams(filepath.Join(dir, "dgram"))
}
