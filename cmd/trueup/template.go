package main

import (
	"context"
	"fmt"
	"os"

	"github.com/trueup/trueup/statement"
)

func runTemplate(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("template", env)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: trueup template FILE.xlsx")
	}
	f, err := os.Create(pos[0])
	if err != nil {
		return err
	}
	if err := statement.WriteTemplate(f); err != nil {
		f.Close()
		return fmt.Errorf("write template: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s\n", pos[0])
	return nil
}
