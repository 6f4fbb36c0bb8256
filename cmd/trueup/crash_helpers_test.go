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
