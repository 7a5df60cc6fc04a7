// Package kilnhot has a CPU-bound function for kiln's runtime tests.
package kilnhot

// Fib is deliberately recursive: its calls are what the profile must name. One Fib(30) takes milliseconds,
// so the first, single-iteration run (under testing.(*B).run1) is sampled too.
func Fib(n int) int {
	if n < 2 {
		return n
	}
	return Fib(n-1) + Fib(n-2)
}
