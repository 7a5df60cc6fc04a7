package burn

import "testing"

//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func square(x int) int { return x * x } // inlined

//go:noinline
func sumSquares(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += square(i) % 7
	}
	return s
}

func BenchmarkBurn(b *testing.B) {
	for i := 0; i < b.N; i++ {
		fib(27)
		sumSquares(3000000)
	}
}
