// GO010 append-loop-to-spread: appending 1,000 ints one at a time vs append(dst, src...),
// dst starting nil.
package claims

import "testing"

func BenchmarkGO010AppendSpread(b *testing.B) {
	src := make([]int, 1000)
	for i := range src {
		src[i] = i
	}
	b.Run("element_loop/n=1000", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var dst []int
			for _, x := range src {
				dst = append(dst, x)
			}
			sinkInts = dst
		}
	})
	b.Run("append_spread/n=1000", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var dst []int
			dst = append(dst, src...)
			sinkInts = dst
		}
	})
}
