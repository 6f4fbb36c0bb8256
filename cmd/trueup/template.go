package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup/statement"
)

// newTemplateCmd returns `trueup template FILE`, which writes the statement
// import template as xlsx or CSV by FILE's extension.
func newTemplateCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "template FILE.xlsx|FILE.csv",
		Short: "write the statement import template (xlsx, or CSV by the file's extension)",
		Long: "Write the statement import template to FILE. A .xlsx file holds the header row, an example\n" +
			"row and a Columns sheet describing each column; a .csv file holds the header row only.\n" +
			"An existing file is replaced.\n\n" + columnsHelp(statement.Columns),
		Args: exactArgs("FILE"),
	}
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"xlsx", "csv"}, cobra.ShellCompDirectiveFilterFileExt
	}
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path := pos[0]
		var write func(io.Writer) error
		switch strings.ToLower(filepath.Ext(path)) {
		case ".xlsx":
			write = statement.WriteTemplate
		case ".csv":
			write = writeCSVTemplate
		default:
			return usagef("%s: the template is written as .xlsx or .csv; name the file template.xlsx or template.csv", path)
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return fmt.Errorf("write template: %w", err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %s\n", path)
		return nil
	}
	return cmd
}

// writeCSVTemplate writes the statement template as CSV: the header row of
// statement.Columns.
func writeCSVTemplate(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(statement.Columns))
	for i, c := range statement.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
