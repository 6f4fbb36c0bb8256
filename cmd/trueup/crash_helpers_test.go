package main

import (
	"context"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/sqlstore"
)

// jobOf returns the job of kind whose arguments contain arg (jobs are
// numbered from 1 in a new database).
func jobOf(tb testing.TB, store *sqlstore.DB, kind, arg string) trueup.Job {
	tb.Helper()
	for id := int64(1); id <= 100; id++ {
		j, err := store.Job(context.Background(), id)
		if trueup.ErrorKind(err) == trueup.ENOTFOUND {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		if j.Kind == kind && strings.Contains(j.Args, arg) {
			return j
		}
	}
	tb.Fatalf("no %s job for %s", kind, arg)
	return trueup.Job{}
}

// skipKillUnderRace skips a kill -9 test in a -race build. Each kill test
// runs its child processes from the test binary, and a race-built child
// works about seven times slower: a run then takes minutes and kills land
// less reliably. .ci/run runs these tests in a step of their own without
// -race; the code they cover runs under -race in the other e2e tests.
func skipKillUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("kill -9 tests run without -race: go test -count=1 -run SurvivesSIGKILL ./cmd/trueup")
	}
}
