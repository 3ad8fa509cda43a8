// GO003 regexp-compile-in-function: regexp.MustCompile of a constant ~30-character pattern in
// the function body (every call) vs a package-level var; one MatchString per call.
package claims

import (
	"regexp"
	"testing"
)

const go003Pattern = `^[a-z][a-z0-9_-]{2,15}@[a-z0-9.-]+$` // 35 characters

var go003Re = regexp.MustCompile(go003Pattern)

func validCompileEachCall(s string) bool {
	re := regexp.MustCompile(go003Pattern)
	return re.MatchString(s)
}

func validPackageVar(s string) bool { return go003Re.MatchString(s) }

func BenchmarkGO003Regexp(b *testing.B) {
	const in = "lesson_lens@example.org"
	b.Run("compile_in_function", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkBool = validCompileEachCall(in)
		}
	})
	b.Run("package_var", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkBool = validPackageVar(in)
		}
	})
}
