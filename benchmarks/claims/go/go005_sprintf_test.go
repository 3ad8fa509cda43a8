// GO005 sprintf-plain-conversion: fmt.Sprintf("%d", n) vs strconv.Itoa(n);
// fmt.Errorf("literal") vs errors.New("literal"); fmt.Sprintf("%s", s) vs s.
package claims

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func BenchmarkGO005Sprintf(b *testing.B) {
	n := 123456 // > 99, so Itoa cannot return a static small-number string
	b.Run("sprintf_d", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkString = fmt.Sprintf("%d", n+i&1023)
		}
	})
	b.Run("strconv_itoa", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkString = strconv.Itoa(n + i&1023)
		}
	})
	b.Run("errorf_literal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkErr = fmt.Errorf("lesson not found")
		}
	})
	b.Run("errors_new", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkErr = errors.New("lesson not found")
		}
	})
	s := "lesson-lens"
	b.Run("sprintf_s", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkString = fmt.Sprintf("%s", s)
		}
	})
	b.Run("plain_s", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkString = s
		}
	})
}
