package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

var keep [][]byte

//go:noinline
func allocSmall(n int) []byte { return make([]byte, n) }

//go:noinline
func allocBig() []byte { return make([]byte, 1<<20) }

func main() {
	runtime.MemProfileRate = 4096
	for i := 0; i < 20000; i++ {
		b := allocSmall(100 + i%500)
		if i%10 == 0 {
			keep = append(keep, b)
		}
		if i%1000 == 0 {
			keep = append(keep, allocBig())
		}
	}
	done := make(chan bool)
	for i := 0; i < 4; i++ {
		go func() { runtime.LockOSThread(); time.Sleep(20 * time.Millisecond); done <- true }()
	}
	for i := 0; i < 4; i++ {
		<-done
	}
	runtime.GC()
	f, _ := os.Create(os.Args[1])
	pprof.Lookup("heap").WriteTo(f, 1)
	f.Close()
	g, _ := os.Create(os.Args[2])
	pprof.Lookup("threadcreate").WriteTo(g, 1)
	g.Close()
	runtime.KeepAlive(keep)
}
