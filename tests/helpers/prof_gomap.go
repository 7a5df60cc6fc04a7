// A Go map insertion benchmark (standard library only) for comparing a profiler's view of the runtime's map
// code with Go's own profiler (tests/cli/t3200-profile-leaf.sh): runtime.mapassign_faststr calls the frameless
// assembly hash aeshashbody, whose samples a frame-pointer walk puts under mapassign's caller.
//
//	prof_gomap [-t SECONDS] [-cpuprofile FILE [-hz RATE]]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink int

// fill stores every key into m. After the first call each store finds its key already there: the work is
// hashing and inserting, not allocation, so garbage collection (whose background workers Go's SIGPROF
// timers see less of than the kernel's cpu-clock does) plays no part in the comparison.
func fill(m map[string]int, keys []string) int {
	for i, k := range keys {
		m[k] = i
	}
	return len(m)
}

func main() {
	seconds := flag.Float64("t", 2, "seconds of work")
	prof := flag.String("cpuprofile", "", "write Go's CPU profile to this file")
	hz := flag.Int("hz", 1000, "Go's profiling rate (its default of 100 Hz gives few samples)")
	flag.Parse()
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i*7919)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		runtime.SetCPUProfileRate(*hz) // StartCPUProfile then warns that the rate is already set, and keeps it
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	end := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	m := make(map[string]int)
	for time.Now().Before(end) {
		sink += fill(m, keys)
	}
	fmt.Println(sink > 0)
}
