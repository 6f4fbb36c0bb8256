#!/usr/bin/env bash
# Runs every fuzz target of the module for a short while, one at a time
# (go test -fuzz takes one target). Targets are found by grep, so a new
# func FuzzXxx in a _test.go file is picked up without editing this script.
#
#   scripts/fuzz-smoke.sh            each target for FUZZTIME (default 3s)
#   FUZZTIME=30s scripts/fuzz-smoke.sh
#   scripts/fuzz-smoke.sh -list      print "package target" lines only
#   scripts/fuzz-smoke.sh 'Cursor'   only the targets whose name matches
#
# A failing input is written by go test under the package's
# testdata/fuzz/FuzzXxx; commit it with the fix as a regression seed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-3s}"

# targets prints "./pkg FuzzName" for every fuzz target, sorted.
targets() {
	grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . |
		sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#\1 \2#' |
		sort -u
}

list=false
if [ "${1:-}" = "-list" ]; then
	list=true
	shift
fi
pattern="${1:-.}"
if $list; then
	targets | awk -v p="$pattern" '$2 ~ p'
	exit 0
fi

# corpus prints the names of the files of a target's committed corpus.
corpus() {
	ls "$1/testdata/fuzz/$2" 2>/dev/null || true
}

start=$(date +%s)
n=0
flaked=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log="$work/log"
cache="$(go env GOCACHE)/fuzz"
built=""
while read -r pkg name; do
	n=$((n + 1))
	# One instrumented test binary per package, run once per target: go
	# test -fuzz would link it again for each target.
	bin="$work/$(echo "$pkg" | tr './' '__').test"
	if [ "$pkg" != "$built" ]; then
		go test -c -fuzz . -o "$bin" "$pkg"
		built="$pkg"
	fi
	echo "fuzz: $pkg $name for $fuzztime"
	before="$(corpus "$pkg" "$name")"
	if (cd "$pkg" && "$bin" -test.run '^$' -test.fuzz "^${name}\$" -test.fuzztime "$fuzztime" \
		-test.fuzzcachedir "$cache/$(go list "./")") </dev/null >"$log" 2>&1; then
		tail -n 1 "$log"
		continue
	fi
	cat "$log"
	# Go's fuzzing coordinator may fail a target with a bare "context
	# deadline exceeded" as -fuzztime ends (golang/go#75804, fixed in Go
	# 1.27): no input failed then, and none is written. Anything else, or
	# a new failing input in the corpus, fails the run.
	if [ "$(corpus "$pkg" "$name")" = "$before" ] &&
		[ "$(grep -cvE '^(fuzz: elapsed|warning: starting with empty corpus|--- FAIL: |    context deadline exceeded$|FAIL$|exit status 1$|FAIL\s)' "$log")" = 0 ]; then
		echo "fuzz: $name: the coordinator's end-of-time race, no failing input; counted as passed"
		flaked=$((flaked + 1))
		continue
	fi
	echo "fuzz: $name failed; its failing input is under $pkg/testdata/fuzz/$name"
	exit 1
done < <(targets | awk -v p="$pattern" '$2 ~ p')
echo "fuzz: $n targets ($flaked stopped by the coordinator's race) in $(($(date +%s) - start))s"
