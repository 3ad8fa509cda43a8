// GO001 string-concat-in-loop: `s += x` in a loop vs strings.Builder (with and without Grow)
// at 10 / 100 / 1,000 pieces of 8 bytes. Claim: += copies the whole string every time, so
// bytes allocated grow quadratically; Builder grows geometrically.
package claims

import (
	"fmt"
	"strings"
	"testing"
)

func pieces(n int) []string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("pc-%05d", i%100000) // 8 bytes
	}
	return ps
}

func BenchmarkGO001Concat(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		ps := pieces(n)
		b.Run(fmt.Sprintf("plus_eq/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s := ""
				for _, p := range ps {
					s += p
				}
				sinkString = s
			}
		})
		b.Run(fmt.Sprintf("builder/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var sb strings.Builder
				for _, p := range ps {
					sb.WriteString(p)
				}
				sinkString = sb.String()
			}
		})
		b.Run(fmt.Sprintf("builder_grow/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var sb strings.Builder
				sb.Grow(8 * len(ps))
				for _, p := range ps {
					sb.WriteString(p)
				}
				sinkString = sb.String()
			}
		})
	}
}
