package main

import (
	"context"
	"slices"
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

// killRig is what the kill -9 tests share: a fresh database, the server's
// own temporary folder (--temp-dir) and the system's (the children's
// TMPDIR), and the serve flags that reach them with a job lease of 1s, so
// that a killed worker's job is taken over within seconds.
type killRig struct {
	store   *sqlstore.DB
	dbArgs  []string // the flags that reach the database
	ownTemp string   // --temp-dir of serve
	sysTemp string   // TMPDIR of every child
	args    []string // more serve flags
}

// newKillRig opens a fresh database of eng, closed when the test ends, and
// makes the temporary folders; args are serve flags of every start.
func newKillRig(tb testing.TB, eng e2eEngine, args ...string) *killRig {
	tb.Helper()
	store, dbArgs := eng.open(tb)
	tb.Cleanup(func() { store.Close() })
	return &killRig{store: store, dbArgs: dbArgs, ownTemp: tb.TempDir(), sysTemp: tb.TempDir(), args: args}
}

// serve starts `trueup serve` on the rig's database and folders and waits
// until it is ready; it is killed when the test ends.
func (k *killRig) serve(tb testing.TB) *process {
	tb.Helper()
	return k.serveIn(tb, k.ownTemp)
}

// serveIn is serve with tempDir as --temp-dir: replicas running at once
// need one each, as each empties its own at start.
func (k *killRig) serveIn(tb testing.TB, tempDir string) *process {
	tb.Helper()
	args := append([]string{"--job-lease", "1s", "--temp-dir", tempDir}, k.args...)
	return startServerEnv(tb, []string{"TMPDIR=" + k.sysTemp}, append(args, k.dbArgs...)...)
}

// completedOfKinds returns how many jobs of the given kinds are completed,
// and fails the test when any job failed for good (jobs of other kinds,
// such as a batch's events, may still be running).
func completedOfKinds(tb testing.TB, store *sqlstore.DB, kinds ...string) int {
	tb.Helper()
	ctx := context.Background()
	if failed, err := store.JobsInState(ctx, trueup.JobFailed, 10); err != nil || len(failed) > 0 {
		tb.Errorf("failed jobs: %+v (%v)", failed, err)
	}
	done, err := store.JobsInState(ctx, trueup.JobCompleted, 10000)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, j := range done {
		if slices.Contains(kinds, j.Kind) {
			n++
		}
	}
	return n
}
