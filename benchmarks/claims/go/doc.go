// Package claims holds the benchmarks behind the speed claims of the Go rules planned in
// docs/plans/js-ts-go-rules.md (issue 16). Run them with ../run_go.sh; no network, no
// dependencies outside the standard library.
package claims

// Sinks keep the compiler from discarding the benchmarked work.
var (
	sinkString string
	sinkInt    int
	sinkBool   bool
	sinkInts   []int
	sinkErr    error
)
