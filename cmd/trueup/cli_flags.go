package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

// dbFlags are the storage flags of every command that opens the database.
type dbFlags struct {
	flags *pflag.FlagSet
	env   Env
	data  string
	url   string
}

// addDBFlags registers --data and --database-url on cmd.
func addDBFlags(cmd *cobra.Command, env Env) *dbFlags {
	f := &dbFlags{flags: cmd.Flags(), env: env}
	cmd.Flags().StringVar(&f.data, "data", "./data", "directory `DIR` of the embedded SQLite database (env TRUEUP_DATA)")
	cmd.Flags().StringVar(&f.url, "database-url", "", "PostgreSQL `URL` (postgres://...); used instead of --data (env TRUEUP_DATABASE_URL)")
	return f
}

// open opens the database the command line or the environment names, the
// first of: --database-url, --data, TRUEUP_DATABASE_URL, TRUEUP_DATA, the
// SQLite database in ./data. A URL that is not postgres:// is a usage
// error.
func (f *dbFlags) open(ctx context.Context) (*sqlstore.DB, error) {
	url, from := f.url, "--database-url"
	switch {
	case f.flags.Changed("database-url"):
	case f.flags.Changed("data"):
		url = ""
	case f.env.Getenv("TRUEUP_DATABASE_URL") != "":
		url, from = f.env.Getenv("TRUEUP_DATABASE_URL"), "TRUEUP_DATABASE_URL"
	}
	if url != "" {
		if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
			return nil, usagef("%s must start with postgres:// (got %q)", from, url)
		}
		return postgres.Open(ctx, url)
	}
	return sqlite.Open(ctx, f.dir())
}

// dir returns the SQLite directory the command line or the environment
// names: --data, else TRUEUP_DATA, else ./data. The server's temporary
// files default to a folder in it, whatever the engine.
func (f *dbFlags) dir() string {
	if !f.flags.Changed("data") && f.env.Getenv("TRUEUP_DATA") != "" {
		return f.env.Getenv("TRUEUP_DATA")
	}
	return f.data
}

// addJSONFlag registers --json on cmd.
func addJSONFlag(cmd *cobra.Command) *bool {
	return cmd.Flags().Bool("json", false, "print JSON")
}

// markRequired marks flags of cmd as required: Run refuses the command
// line, exit 2, when one is missing. Their help says "(required)".
func markRequired(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err) // a flag name misspelled in the code
		}
		cmd.Flags().Lookup(n).Usage += " (required)"
	}
}

// checkRequired returns a usage error naming the required flags of cmd
// that were not given.
func checkRequired(cmd *cobra.Command) error {
	var missing []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if req := f.Annotations[cobra.BashCompOneRequiredFlag]; len(req) > 0 && req[0] == "true" && !f.Changed {
			name, _ := pflag.UnquoteUsage(f)
			missing = append(missing, strings.TrimSpace("--"+f.Name+" "+name))
		}
	})
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return usagef("%s is required", missing[0])
	}
	return usagef("%s and %s are required", strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1])
}

// envAnnotation marks a flag whose default comes from an environment
// variable; its value is the variable's name.
const envAnnotation = "trueup_env"

// bindEnv gives each named flag of fs the environment variable TRUEUP_NAME
// (upper case, - as _), says so in its help, and returns the names of the
// variables. applyEnv reads them.
func bindEnv(fs *pflag.FlagSet, names ...string) []string {
	vars := make([]string, len(names))
	for i, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			panic("bindEnv: no flag " + n) // a flag name misspelled in the code
		}
		vars[i] = "TRUEUP_" + strings.ToUpper(strings.ReplaceAll(n, "-", "_"))
		f.Usage += " (env " + vars[i] + ")"
		if err := fs.SetAnnotation(n, envAnnotation, []string{vars[i]}); err != nil {
			panic(err)
		}
	}
	return vars
}

// bindAllEnv binds every flag of fs with bindEnv but --help and the
// database flags, whose variables dbFlags.open reads.
func bindAllEnv(fs *pflag.FlagSet) {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && f.Name != "data" && f.Name != "database-url" {
			names = append(names, f.Name)
		}
	})
	bindEnv(fs, names...)
}

// applyEnv sets each flag of fs bound by bindEnv that was not given on the
// command line from its environment variable, when that is set and not
// empty. A value the flag does not accept is a usage error naming the
// variable.
func applyEnv(fs *pflag.FlagSet, env Env) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		v := f.Annotations[envAnnotation]
		if err != nil || len(v) == 0 || f.Changed || env.Getenv == nil {
			return
		}
		val := env.Getenv(v[0])
		if val == "" {
			return
		}
		if f.Value.Set(val) != nil {
			err = usagef("%s=%q is not a valid --%s (%s); fix or unset the variable", v[0], val, f.Name, f.Value.Type())
		}
	})
	return err
}

// exactArgs returns a cobra.PositionalArgs that wants one argument for
// each of names, which the usage error names.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		want := "no arguments"
		if len(names) > 0 {
			want = strings.Join(names, " ")
		}
		got := "none"
		if len(args) > 0 {
			got = fmt.Sprintf("%d (%s)", len(args), strings.Join(args, " "))
		}
		return usagef("give %s; got %s", want, got)
	}
}

// longFlagArgs rewrites the single-dash long flags that trueup's earlier
// parser (Go's flag package) accepted, such as -json or -data=DIR, as
// --json and --data=DIR, when the name is a flag of some trueup command.
// Arguments after "--" are left as they are.
func longFlagArgs(root *cobra.Command, args []string) []string {
	names := map[string]bool{"help": true, "version": true}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, len(args))
	for i, a := range args {
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			if name, _, _ := strings.Cut(a[1:], "="); len(name) > 1 && names[name] {
				a = "-" + a
			}
		}
		out[i] = a
	}
	return out
}

// addReaderFlags registers the limits of the file readers on cmd
// (--max-cell-bytes and the others) and returns them, for withServices.
func addReaderFlags(cmd *cobra.Command) *sheet.Limits {
	l := new(sheet.Limits)
	readerFlags(cmd.Flags(), l)
	return l
}

// readerFlags registers the limits of the file readers on fs, bound to l,
// which it sets to sheet.DefaultLimits first.
func readerFlags(fs *pflag.FlagSet, l *sheet.Limits) {
	*l = sheet.DefaultLimits()
	fs.Int64Var(&l.SharedStrings, "max-shared-strings", l.SharedStrings, "most bytes a workbook's shared strings may take in memory (xlsx, xls)")
	fs.Int64Var(&l.StringsMemory, "xlsx-strings-memory", l.StringsMemory, "bytes of an xlsx workbook's shared strings held in memory; a larger table is read from a temporary file (not when at or above --max-shared-strings)")
	fs.Int64Var(&l.Inflated, "max-inflated", l.Inflated, "most bytes a workbook may inflate to (xlsx, xls)")
	fs.IntVar(&l.FieldBytes, "max-cell-bytes", l.FieldBytes, "longest text of one cell or JSON Lines value, in bytes")
	fs.IntVar(&l.RowBytes, "max-row-bytes", l.RowBytes, "most text of one row or JSON Lines line, in bytes")
	fs.IntVar(&l.RowCells, "max-row-cells", l.RowCells, "most cells in one row")
}

// withStore returns a cobra RunE that opens the database db names, calls
// run with it and the positional arguments, and closes it.
func withStore(db *dbFlags, run func(ctx context.Context, store *sqlstore.DB, pos []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, pos []string) error {
		// Whatever a command changes, the CLI on the server's host did.
		ctx := trueup.WithActor(cmd.Context(), trueup.ActorCLI)
		store, err := db.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		return run(ctx, store, pos)
	}
}

// withServices returns a cobra RunE that opens the database db names,
// builds the services over it as the server does (NewServices, reading
// files within *readers when readers is not nil), calls run with them, the
// store and the positional arguments, and closes both.
func withServices(db *dbFlags, readers *sheet.Limits, run func(ctx context.Context, store *sqlstore.DB, svc *Services, pos []string) error) func(*cobra.Command, []string) error {
	return withStore(db, func(ctx context.Context, store *sqlstore.DB, pos []string) (err error) {
		var lim sheet.Limits
		if readers != nil {
			lim = *readers
		}
		svc := NewServices(store, nil, lim)
		defer func() {
			if cerr := svc.Close(); err == nil {
				err = cerr
			}
		}()
		return run(ctx, store, svc, pos)
	})
}
