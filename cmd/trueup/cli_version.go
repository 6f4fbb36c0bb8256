package main

import (
	"fmt"

	"github.com/spf13/cobra"
	trueuphttp "github.com/trueup/trueup/http"
)

// newVersionCmd returns `trueup version`, which prints what `trueup
// --version` prints: the module version, the VCS revision and the Go
// version the binary was built with.
func newVersionCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print the module version, VCS revision and Go version",
		Args:  exactArgs(),
	}
	asJSON := addJSONFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		b := trueuphttp.ReadBuildInfo()
		if *asJSON {
			return printJSON(env.Stdout, b)
		}
		_, err := fmt.Fprintf(env.Stdout, "trueup %s\n", b)
		return err
	}
	return cmd
}
