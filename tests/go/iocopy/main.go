// iocopy: io.Copy between files and pipes, which Go's os package does with copy_file_range,
// splice and sendfile on Linux: file -> file, file -> pipe, pipe -> file, and a copy of the
// copy read back through a pipe. Prints each count and a checksum of what arrived.
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

const size = 3<<20 + 12345

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func sum(path string) string {
	b, err := os.ReadFile(path)
	check(err)
	return fmt.Sprintf("%d bytes %x", len(b), sha256.Sum256(b))
}

func main() {
	dir, err := os.MkdirTemp("/dev/shm", "iocopy")
	check(err)
	defer os.RemoveAll(dir)
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i/4096)
	}
	src := dir + "/src"
	check(os.WriteFile(src, data, 0o600))
	fmt.Println("src", sum(src))

	// file -> file (copy_file_range)
	in, err := os.Open(src)
	check(err)
	out, err := os.Create(dir + "/dst")
	check(err)
	n, err := io.Copy(out, in)
	check(err)
	fmt.Println("file->file", n)
	check(out.Close())
	in.Close()
	fmt.Println("dst", sum(dir+"/dst"))

	// file -> pipe -> file, a goroutine on each side (splice/sendfile)
	r, w, err := os.Pipe()
	check(err)
	done := make(chan int64)
	go func() {
		o, err := os.Create(dir + "/piped")
		check(err)
		n, err := io.Copy(o, r)
		check(err)
		check(o.Close())
		done <- n
	}()
	in, err = os.Open(dir + "/dst")
	check(err)
	n, err = io.Copy(w, in)
	check(err)
	check(w.Close())
	fmt.Println("file->pipe", n)
	fmt.Println("pipe->file", <-done)
	fmt.Println("piped", sum(dir+"/piped"))

	// Part of a file at an offset, through io.CopyN and a section reader.
	in, err = os.Open(src)
	check(err)
	_, err = in.Seek(100000, io.SeekStart)
	check(err)
	out, err = os.Create(dir + "/part")
	check(err)
	n, err = io.CopyN(out, in, 54321)
	check(err)
	check(out.Close())
	fmt.Println("copyN", n)
	fmt.Println("part", sum(dir+"/part"))
}
