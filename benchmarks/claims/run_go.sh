#!/usr/bin/env bash
# Runs the Go benchmarks behind the GO00x speed claims in docs/plans/js-ts-go-rules.md.
# Offline: standard library only, module proxy off, local toolchain only (Debian golang-go 1.19).
set -euo pipefail
cd "$(dirname "$0")/go"
export GOCACHE="${GOCACHE:-/tmp/gocache}"
go version
GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local go test -run '^$' -bench . -benchmem -benchtime=200ms "$@"
