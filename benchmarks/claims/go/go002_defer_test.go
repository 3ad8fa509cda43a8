// GO002 defer-in-loop: the rule has NO speed claim (it is about resource lifetime: every
// deferred Close waits for the function to return). This benchmark only records the cost side
// of the advice "move the body into a function": 100 iterations, each acquiring a resource
// and deferring its release, directly in the loop vs in a func literal per iteration.
package claims

import "testing"

type res struct{ open int }

func (r *res) acquire()     { r.open++ }
func (r *res) Close() error { r.open--; return nil }

func deferInLoop(r *res, n int) int {
	maxOpen := 0
	for i := 0; i < n; i++ {
		r.acquire()
		defer r.Close()
		if r.open > maxOpen {
			maxOpen = r.open
		}
	}
	return maxOpen
}

func closurePerIteration(r *res, n int) int {
	maxOpen := 0
	for i := 0; i < n; i++ {
		func() {
			r.acquire()
			defer r.Close()
			if r.open > maxOpen {
				maxOpen = r.open
			}
		}()
	}
	return maxOpen
}

func BenchmarkGO002Defer(b *testing.B) {
	const n = 100
	b.Run("defer_in_loop/n=100", func(b *testing.B) {
		b.ReportAllocs()
		r := &res{}
		for i := 0; i < b.N; i++ {
			sinkInt = deferInLoop(r, n) // max open resources: 100
		}
	})
	b.Run("closure_per_iteration/n=100", func(b *testing.B) {
		b.ReportAllocs()
		r := &res{}
		for i := 0; i < b.N; i++ {
			sinkInt = closurePerIteration(r, n) // max open resources: 1
		}
	})
}

func TestGO002OpenResources(t *testing.T) {
	if got := deferInLoop(&res{}, 100); got != 100 {
		t.Fatalf("defer in loop: %d open at once, want 100", got)
	}
	if got := closurePerIteration(&res{}, 100); got != 1 {
		t.Fatalf("closure per iteration: %d open at once, want 1", got)
	}
}
