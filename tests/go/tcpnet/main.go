// tcpnet: Go's net package over AF_INET (non-blocking host-backed sockets, accept4, epoll
// edge-triggered): a TCP server on 127.0.0.1:0 serving concurrent clients that send lines
// and read them back in upper case, a deadline that expires, a UDP echo, and the errors of
// dialling a closed port and listening on a taken one. Ports change from run to run, so
// only their shape is printed.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	addr := l.Addr().(*net.TCPAddr)
	fmt.Println("listening on loopback:", addr.IP.String() == "127.0.0.1", addr.Port > 0)
	var done sync.WaitGroup
	go func() {
		for i := 0; i < 8; i++ {
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
	}()
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr.String())
			check(err)
			defer c.Close()
			r := bufio.NewReader(c)
			var answers []string
			for j := 0; j < 3; j++ {
				fmt.Fprintf(c, "client %d line %d %s\n", i, j, strings.Repeat("x", 1000*j))
				line, err := r.ReadString('\n')
				check(err)
				answers = append(answers, fmt.Sprint(len(line), " ", strings.TrimSpace(line)[:15]))
			}
			mu.Lock()
			got = append(got, strings.Join(answers, " / "))
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	sort.Strings(got)
	for _, g := range got {
		fmt.Println("tcp:", g)
	}
	done.Wait()

	// A read deadline ends a read nobody answers.
	c, err := net.Dial("tcp", addr.String())
	check(err)
	s, err := l.Accept()
	check(err)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = c.Read(make([]byte, 8))
	var ne net.Error
	fmt.Println("read deadline:", errors.As(err, &ne) && ne.Timeout())
	s.Close()
	n, err := c.Read(make([]byte, 8))
	c.SetReadDeadline(time.Time{})
	n, err = c.Read(make([]byte, 8))
	fmt.Println("read after peer close:", n, err)
	c.Close()

	_, err = net.Listen("tcp", addr.String())
	fmt.Println("listen on a port in use:", err != nil && strings.Contains(err.Error(), "address already in use"))
	check(l.Close())
	_, err = net.Dial("tcp", addr.String())
	fmt.Println("dial a closed port:", err != nil && strings.Contains(err.Error(), "connection refused"))

	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	check(err)
	go func() {
		buf := make([]byte, 64)
		for i := 0; i < 3; i++ {
			n, from, err := u.ReadFrom(buf)
			check(err)
			_, err = u.WriteTo([]byte(strings.ToUpper(string(buf[:n]))), from)
			check(err)
		}
	}()
	for i := 0; i < 3; i++ {
		uc, err := net.Dial("udp", u.LocalAddr().String())
		check(err)
		_, err = uc.Write([]byte(fmt.Sprintf("datagram %d", i)))
		check(err)
		buf := make([]byte, 64)
		n, err := uc.Read(buf)
		check(err)
		fmt.Printf("udp: %s\n", buf[:n])
		uc.Close()
	}
	u.Close()
}
