package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/sqlstore"
)

// newAdminOperatorCmd returns `trueup admin operator`: the console's
// operators. A generated password is shown once.
func newAdminOperatorCmd(env Env) *cobra.Command {
	out := env.Stdout

	create := &cobra.Command{Use: "create --email EMAIL --role ROLE", Short: "create a console operator (a generated password is shown once)",
		Long: "Create an operator of the web console (/console/). The password is generated and printed once,\n" +
			"unless --password-stdin reads it from standard input (its first line); then it is not printed.\n" +
			"Roles: viewer reads; operator also uploads, confirms and cancels; admin also manages partners,\n" +
			"keys and operators; carrier is a carrier user, limited to --carrier.",
		Args: exactArgs()}
	createDB, createJSON := addDBFlags(create, env), addJSONFlag(create)
	email := create.Flags().String("email", "", "the operator's `EMAIL`, used to sign in")
	role := create.Flags().String("role", "", "`ROLE`: viewer, operator, admin or carrier")
	carrier := create.Flags().String("carrier", "", "the carrier `ID` of a carrier user (role carrier only)")
	stdin := create.Flags().Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	markRequired(create, "email")
	markRequired(create, "role")
	create.RunE = withServices(createDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		p := operator.CreateParams{Email: *email, Role: operator.Role(*role), CarrierID: trueup.CarrierID(*carrier)}
		if *stdin {
			pw, err := readPasswordLine(env.Stdin)
			if err != nil {
				return err
			}
			p.Password = pw
		}
		c, err := svc.Operators.Create(trueup.WithActor(ctx, trueup.ActorCLI), p)
		if err != nil {
			return err
		}
		if *createJSON {
			return printJSON(out, c)
		}
		fmt.Fprintf(out, "operatorId: %s\nemail:      %s\nrole:       %s\n", c.OperatorID, c.Email, c.Role)
		if c.Password != "" {
			fmt.Fprintf(out, "password:   %s\n\nThe password is shown once; give it to %s by a safe channel.\n", c.Password, c.Email)
		}
		_, err = fmt.Fprintln(out, "Sign in at /console/login.")
		return err
	})

	list := &cobra.Command{Use: "list", Short: "list the console operators", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	list.RunE = withServices(listDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		ops, err := svc.Operators.List(ctx)
		if err != nil {
			return err
		}
		if *listJSON {
			return printJSON(out, ops)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "OPERATOR ID\tEMAIL\tROLE\tCARRIER\tCREATED\tSTATE")
		for _, o := range ops {
			state := "active"
			if o.DisabledAt != nil {
				state = "disabled " + trueup.FormatTime(*o.DisabledAt)
			} else if o.LockedUntil != nil {
				state = "locked until " + trueup.FormatTime(*o.LockedUntil)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Email, o.Role, o.CarrierID, trueup.FormatTime(o.CreatedAt), state)
		}
		return tw.Flush()
	})

	setDisabled := func(disabled bool) *cobra.Command {
		use, short := "disable ID", "disable a console operator and end its sessions (the operatorId from create or list)"
		if !disabled {
			use, short = "enable ID", "enable a disabled or locked console operator again"
		}
		cmd := &cobra.Command{Use: use, Short: short, Args: exactArgs("ID")}
		db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
		cmd.RunE = withServices(db, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
			o, err := svc.Operators.SetDisabled(trueup.WithActor(ctx, trueup.ActorCLI), operator.ID(pos[0]), disabled)
			if err != nil {
				return err
			}
			state := "disabled; its sessions have ended"
			if !disabled {
				state = "enabled"
			}
			return report(out, *asJSON, o, fmt.Sprintf("operator %s (%s) %s", o.ID, o.Email, state))
		})
		return cmd
	}

	password := &cobra.Command{Use: "password ID", Short: "give a console operator a new password (generated and shown once) and end its sessions", Args: exactArgs("ID")}
	passwordDB, passwordJSON := addDBFlags(password, env), addJSONFlag(password)
	passwordStdin := password.Flags().Bool("password-stdin", false, "read the new password from the first line of standard input instead of generating one")
	password.RunE = withServices(passwordDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		var chosen string
		if *passwordStdin {
			pw, err := readPasswordLine(env.Stdin)
			if err != nil {
				return err
			}
			chosen = pw
		}
		ctx = trueup.WithActor(ctx, trueup.ActorCLI)
		o, err := svc.Operators.Get(ctx, operator.ID(pos[0]))
		if err != nil {
			return err
		}
		pw, err := svc.Operators.ResetPassword(ctx, o.ID, chosen)
		if err != nil {
			return err
		}
		c := operator.Created{OperatorID: o.ID, Email: o.Email, Role: o.Role, CarrierID: o.CarrierID}
		if chosen == "" {
			c.Password = pw
		}
		if *passwordJSON {
			return printJSON(out, c)
		}
		fmt.Fprintf(out, "operator %s (%s) has a new password; its sessions have ended.\n", o.ID, o.Email)
		if c.Password != "" {
			fmt.Fprintf(out, "password: %s\n\nThe password is shown once.\n", c.Password)
		}
		return nil
	})

	return newGroup("operator", "console operators: create, list, disable, enable, password", create, list, setDisabled(true), setDisabled(false), password)
}

// readPasswordLine returns the first line of r, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	if r == nil {
		return "", usagef("--password-stdin: standard input is empty; pipe the password in, for example: printf '%%s\\n' \"$PW\" | trueup admin operator create ...")
	}
	b, err := io.ReadAll(io.LimitReader(r, operator.MaxPasswordLen+3))
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", usagef("--password-stdin: standard input is empty; pipe the password in, for example: printf '%%s\\n' \"$PW\" | trueup admin operator create ...")
	}
	return line, nil
}
