// Command trueup is the partner reconciliation server and its operator
// tools. Run `trueup --help` for the commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	trueuphttp "github.com/trueup/trueup/http"
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
	// Now is the commands' clock; time.Now when nil.
	Now func() time.Time
}

// now returns the current time of env's clock.
func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// The exit statuses of Run.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Run runs the command line args (without the program name) and returns
// the exit status: 0 when the command succeeded, 1 when it failed, 2 when
// the command line is wrong (unknown command or flag, a missing argument
// or required flag, or no command at all).
func Run(ctx context.Context, args []string, env Env) int {
	root := newRootCmd(env)
	root.SetArgs(longFlagArgs(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if cmd == nil {
		cmd = root
	}
	if errors.Is(err, errHelpShown) {
		return exitUsage
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.Stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(env.Stderr, "%s: %s\n", cmd.CommandPath(), errorText(err))
	return exitFailure
}

// commands returns trueup's top-level commands (help lists them sorted by
// name). A new command is a constructor in its own file and a line here.
func commands(env Env) []*cobra.Command {
	return []*cobra.Command{
		newServeCmd(env),
		newAdminCmd(env),
		newImportCmd(env),
		newTemplateCmd(env),
		newVerifyCmd(env),
		newBatchCmd(env),
		newEventsCmd(env),
		newCasesCmd(env),
		newCycleCmd(env),
		newAdjustmentsCmd(env),
		newVersionCmd(env),
		newAuditCmd(env),
		newWebhooksCmd(env),
	}
}

// newRootCmd returns the trueup command with every subcommand, writing to
// env's streams.
func newRootCmd(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "trueup",
		Short: "partner reconciliation server and its operator tools",
		Long: `trueup is a partner reconciliation server: carriers upload monthly statements
and read back every discrepancy against the platform's ledger; buyers adjust
survey transactions; risk clients check mobile numbers.

Every command that reads or writes data works directly on the configured
database, with or without a running server: --data DIR (embedded SQLite,
default ./data) or --database-url postgres://... A flag beats its environment
variable (TRUEUP_DATA, TRUEUP_DATABASE_URL, and TRUEUP_* for each serve flag).

Exit status: 0 done, 1 failed, 2 the command line is wrong.`,
		Version:       trueuphttp.ReadBuildInfo().String(),
		Args:          subcommandArgs,
		RunE:          showHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), env); err != nil {
				return err
			}
			return checkRequired(cmd)
		},
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.Flags().BoolP("version", "v", false, "print the module version, VCS revision and Go version")
	root.SetUsageTemplate(usageTemplate)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	root.AddCommand(commands(env)...)
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Short = "print the shell completion script: bash, zsh, fish or powershell"
			c.Args, c.RunE = subcommandArgs, showHelp
		}
	}
	return root
}

// newHelpCmd returns `trueup help [COMMAND...]`, which prints the help of
// trueup or of the command named; an unknown one is a usage error.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...]",
		Short: "show the help of trueup or of a command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usagef("unknown help topic %q; run trueup --help for the commands", strings.Join(args, " "))
			}
			return cmd.Help()
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name()+"\t"+sub.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

// errHelpShown ends a command that printed its help because it was given
// no subcommand; Run exits 2 without a further message.
var errHelpShown = errors.New("help shown")

// showHelp prints the help of a command given without a subcommand to
// stderr and returns errHelpShown.
func showHelp(cmd *cobra.Command, _ []string) error {
	cmd.SetOut(cmd.ErrOrStderr())
	if err := cmd.Help(); err != nil {
		return err
	}
	return errHelpShown
}

// subcommandArgs refuses the positional arguments of a command that only
// holds subcommands: the first one names no subcommand.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageError{msg}
}

// newGroup returns a command that holds subcommands: given none it prints
// its help and exits 2; an unknown one is a usage error.
func newGroup(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: subcommandArgs, RunE: showHelp}
	c.AddCommand(subs...)
	return c
}

// usageTemplate is cobra's usage template, except that a command holding
// subcommands shows only "COMMAND [command]" as its usage line.
const usageTemplate = `Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Available Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`

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

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
