// GO007 tolower-compare: strings.ToLower(a) == strings.ToLower(b) vs strings.EqualFold(a, b),
// 20-byte ASCII strings: equal but for case, differing at byte 1, and both already lower case
// (ToLower's no-allocation fast path).
package claims

import (
	"strings"
	"testing"
)

func BenchmarkGO007EqualFold(b *testing.B) {
	cases := []struct{ name, a, b string }{
		{"equal_mixed_case", "Content-Type-Header1", "content-TYPE-header1"},
		{"differ_at_byte1", "Content-Type-Header1", "Xontent-Type-Header1"},
		{"both_lower_equal", "content-type-header1", "content-type-header1"},
	}
	for _, c := range cases {
		c := c
		b.Run("tolower_eq/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkBool = strings.ToLower(c.a) == strings.ToLower(c.b)
			}
		})
		b.Run("equalfold/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkBool = strings.EqualFold(c.a, c.b)
			}
		})
	}
}
