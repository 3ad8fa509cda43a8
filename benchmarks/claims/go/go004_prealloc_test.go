// GO004 prealloc-known-length: appending one element per item of a slice of known length,
// growing from nil vs make([]T, 0, len(src)), at n = 10 / 1,000 / 100,000 ints.
package claims

import (
	"fmt"
	"testing"
)

func BenchmarkGO004Prealloc(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		src := make([]int, n)
		for i := range src {
			src[i] = i
		}
		b.Run(fmt.Sprintf("grow/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var out []int
				for _, v := range src {
					out = append(out, v*2)
				}
				sinkInts = out
			}
		})
		b.Run(fmt.Sprintf("prealloc/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				out := make([]int, 0, len(src))
				for _, v := range src {
					out = append(out, v*2)
				}
				sinkInts = out
			}
		})
	}
}
