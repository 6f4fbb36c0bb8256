// Command trueup is the partner reconciliation server and its operator
// tools. Run `trueup help` for the commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}

// Env is what a command sees of the process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env Env) error
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP server and background workers", runServe},
		{"admin", "provision carriers and client credentials", runAdmin},
		{"import", "load ledger data: import orders --carrier ID FILE", runImport},
		{"template", "write the statement import template: template FILE.xlsx", runTemplate},
		{"verify", "check a statement offline: verify --carrier ID --cycle yyyy-mm FILE [--out report.xlsx]", runVerify},
		{"batch", "show statement batches: batch status BATCHNO | batch list --carrier ID", runBatch},
		{"events", "list carriers' package lifecycle events: events --carrier ID [--user U]", runEvents},
		{"adjustments", "buyer adjustments: launch, confirm, cancel, list", runAdjustments},
		{"help", "show this help", nil},
	}
}

// Run runs the command named by args[0] and returns the exit status.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			err := c.run(ctx, args[1:], env)
			if err == nil {
				return 0
			}
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			var ue usageError
			if errors.As(err, &ue) {
				fmt.Fprintf(env.Stderr, "trueup %s: %v\n", c.name, err)
				return 2
			}
			fmt.Fprintf(env.Stderr, "trueup %s: %s\n", c.name, errorText(err))
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "trueup: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "trueup: partner reconciliation server\n\nUsage: trueup COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --data DIR (SQLite, default ./data) or --database-url postgres://... (or TRUEUP_DATABASE_URL).")
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errorText shows application errors as they are and others with their
// chain, since the operator is at the console.
func errorText(err error) string {
	var e *trueup.Error
	if errors.As(err, &e) && e.Error() == err.Error() {
		return e.Message
	}
	return err.Error()
}

// dbFlags are the storage flags every command takes.
type dbFlags struct {
	data string
	url  string
}

func (f *dbFlags) register(fs *flag.FlagSet, env Env) {
	fs.StringVar(&f.data, "data", "./data", "directory of the embedded SQLite database")
	fs.StringVar(&f.url, "database-url", env.Getenv("TRUEUP_DATABASE_URL"), "PostgreSQL URL (postgres://...); overrides --data")
}

func (f *dbFlags) open(ctx context.Context) (*sqlstore.DB, error) {
	if f.url != "" {
		if !strings.HasPrefix(f.url, "postgres://") && !strings.HasPrefix(f.url, "postgresql://") {
			return nil, usagef("--database-url must start with postgres:// (got %q)", f.url)
		}
		return postgres.Open(ctx, f.url)
	}
	return sqlite.Open(ctx, f.data)
}

func newFlagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseFlags parses args allowing flags after positional arguments, and
// returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
