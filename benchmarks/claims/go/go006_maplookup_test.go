// GO006 map-double-lookup: (a) `if _, ok := m[k]; ok { use(m[k]) }` vs `if v, ok := m[k]; ok`
// over 1,000 string keys (all present) in a map[string]int of 1,000 entries, reported per
// 1,000 lookups; (b) S1036: a guarded `m[k] += 1` vs the bare `m[k]++`.
package claims

import (
	"fmt"
	"testing"
)

func go006Keys() ([]string, map[string]int) {
	keys := make([]string, 1000)
	m := make(map[string]int, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("lesson-key-%04d", i)
		m[keys[i]] = i
	}
	return keys, m
}

func BenchmarkGO006MapLookup(b *testing.B) {
	keys, m := go006Keys()
	b.Run("double_lookup/1000keys", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s := 0
			for _, k := range keys {
				if _, ok := m[k]; ok {
					s += m[k]
				}
			}
			sinkInt = s
		}
	})
	b.Run("comma_ok/1000keys", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s := 0
			for _, k := range keys {
				if v, ok := m[k]; ok {
					s += v
				}
			}
			sinkInt = s
		}
	})
	b.Run("guarded_increment/1000keys", func(b *testing.B) {
		b.ReportAllocs()
		c := make(map[string]int, 1000)
		for i := 0; i < b.N; i++ {
			for _, k := range keys {
				if _, ok := c[k]; ok {
					c[k] += 1
				} else {
					c[k] = 1
				}
			}
		}
		sinkInt = len(c)
	})
	b.Run("bare_increment/1000keys", func(b *testing.B) {
		b.ReportAllocs()
		c := make(map[string]int, 1000)
		for i := 0; i < b.N; i++ {
			for _, k := range keys {
				c[k]++
			}
		}
		sinkInt = len(c)
	})
}
