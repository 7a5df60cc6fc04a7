package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
)

type Shape interface{ Area() float64 }
type Rect struct{ w, h float64 }
type Circle struct{ r float64 }

func (r Rect) Area() float64   { return r.w * r.h }
func (c Circle) Area() float64 { return 3.14159 * c.r * c.r }

// score is too large for the default inliner; a profile makes its hot call site worth inlining.
func score(x, y int) int {
	s := 0
	for i := 0; i < 4; i++ {
		switch {
		case x > y:
			s += x*3 - y
		case x < y:
			s += y*2 - x
		default:
			s += x ^ y
		}
		x, y = y+i, x-i
		if s > 1<<20 {
			s >>= 3
		}
		if s < -(1 << 20) {
			s = -s >> 2
		}
	}
	return s
}

func work(n int, shapes []Shape) float64 {
	total := 0.0
	for i := 0; i < n; i++ {
		total += shapes[i%len(shapes)].Area()
		total += float64(score(i, n-i) & 7)
	}
	return total
}

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile")
	n := flag.Int("n", 200000000, "iterations")
	flag.Parse()
	if *cpu != "" {
		f, _ := os.Create(*cpu)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	shapes := []Shape{Rect{2, 3}, Rect{4, 5}, Rect{1, 1}}
	fmt.Println(work(*n, shapes))
}
