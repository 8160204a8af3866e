// A Go program for the oracle tests: goroutines and channels, a timer and a ticker, an
// allocation loop the GC must keep up with, file I/O on a temporary file and, given a
// busybox path as its argument, a child process through os/exec.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

func main() {
	// goroutines and channels
	ch := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				ch <- id*100 + i
			}
		}(w)
	}
	go func() { wg.Wait(); close(ch) }()
	var got []int
	for v := range ch {
		got = append(got, v)
	}
	sort.Ints(got)
	fmt.Println("received", len(got), got[0], got[len(got)-1])

	// a timer and a ticker
	start := time.Now()
	<-time.After(30 * time.Millisecond)
	t := time.NewTicker(10 * time.Millisecond)
	n := 0
	for range t.C {
		n++
		if n == 3 {
			break
		}
	}
	t.Stop()
	fmt.Println("timer and ticker done:", time.Since(start) >= 50*time.Millisecond)

	// GC-heavy allocation
	total := 0
	for i := 0; i < 200000; i++ {
		b := make([]byte, 64+i%512)
		total += len(b)
	}
	fmt.Println("allocated", total)

	// file I/O on a temporary file
	f, err := os.CreateTemp("", "emu-go-")
	if err != nil {
		fmt.Println("createtemp:", err)
		return
	}
	defer os.Remove(f.Name())
	f.WriteString("hello from go\n")
	f.Close()
	data, err := os.ReadFile(f.Name())
	fmt.Printf("read %q %v base %v\n", data, err, len(filepath.Base(f.Name())) > 7)

	// a child process, its output through a pipe
	if len(os.Args) > 1 {
		out, err := exec.Command(os.Args[1], "echo", "hi from a child").Output()
		fmt.Printf("exec: %q %v\n", out, err)
	}
}
