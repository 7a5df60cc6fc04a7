package kilnhot

import "testing"

func BenchmarkFib(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if Fib(30) != 832040 {
			b.Fatal("wrong")
		}
	}
}
