package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
)

// ledgerParams are the inputs of runLedger.
type ledgerParams struct {
	N     int
	Dir   string
	PGURL string // a database trueup may migrate and fill; skipped when empty
	Bin   string // the trueup binary; built from this tree when empty
	Check bool   // also time `trueup verify` of an N-row statement after the import
}

// runLedger measures the ledger import through the command, as an operator
// runs it: `trueup import orders` of a generated N-order CSV into a new
// carrier, then the same file again (every order an upsert), on SQLite and
// on PostgreSQL; with Check, `trueup verify` of an N-row statement straight
// after (no statistics but those the import leaves).
func runLedger(p ledgerParams) error {
	spec := gen.Spec{Orders: p.N, Cycle: trueup.CycleOf(time.Now().UTC()).Prev(), Seed: 1,
		MissingEvery: 20, ExtraEvery: 20, RightsEvery: 20, AmountEvery: 20}
	ledgerCSV := filepath.Join(p.Dir, "ledger.csv")
	if err := writeFile(ledgerCSV, spec.WriteLedgerCSV); err != nil {
		return err
	}
	statementCSV := filepath.Join(p.Dir, "statement.csv")
	if p.Check {
		if err := writeFile(statementCSV, spec.WriteCSV); err != nil {
			return err
		}
	}
	bin := p.Bin
	if bin == "" {
		var err error
		if bin, err = buildServer(p.Dir); err != nil {
			return err
		}
	}
	engines := [][2]string{{"sqlite", "--data=" + filepath.Join(p.Dir, "data")}}
	if p.PGURL != "" {
		engines = append(engines, [2]string{"postgres", "--database-url=" + p.PGURL})
	}
	fmt.Printf("# ledger import: %d orders, %s\n\n| engine | step | wall | CPU (user+sys) | orders/s (wall) | peak RSS |\n|---|---|---|---|---|---|\n", p.N, bin)
	for _, e := range engines {
		out, _, err := trueupRun(bin, "admin", "carrier", "create", "--json", "--name", fmt.Sprintf("Ledger bench %d", time.Now().UnixNano()), e[1])
		if err != nil {
			return fmt.Errorf("%s: create carrier: %w", e[0], err)
		}
		var car struct {
			CarrierID string `json:"carrierId"`
		}
		if err := json.Unmarshal(out, &car); err != nil {
			return fmt.Errorf("%s: carrier: %w", e[0], err)
		}
		steps := []struct {
			name string
			args []string
		}{
			{"import", []string{"import", "orders", "--carrier", car.CarrierID, e[1], ledgerCSV}},
			{"re-import", []string{"import", "orders", "--carrier", car.CarrierID, e[1], ledgerCSV}},
		}
		if p.Check {
			steps = append(steps, struct {
				name string
				args []string
			}{"verify", []string{"verify", "--carrier", car.CarrierID, "--cycle", spec.Cycle.String(), e[1], statementCSV}})
		}
		for _, s := range steps {
			start := time.Now()
			_, use, err := trueupRun(bin, s.args...)
			if err != nil {
				return fmt.Errorf("%s %s: %w", e[0], s.name, err)
			}
			d := time.Since(start)
			cpu := time.Duration(use.Utime.Nano() + use.Stime.Nano())
			fmt.Printf("| %s | %s | %.2f s | %.2f s | %.0f | %d MiB |\n", e[0], s.name, d.Seconds(), cpu.Seconds(), float64(p.N)/d.Seconds(), use.Maxrss/1024)
		}
	}
	return nil
}

// trueupRun runs the trueup binary and returns its output and resource
// use.
func trueupRun(bin string, args ...string) ([]byte, *syscall.Rusage, error) {
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%v: %w: %s", args[:2], err, errb.String())
	}
	use, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if use == nil {
		use = &syscall.Rusage{}
	}
	os.Stdout.Sync()
	return out.Bytes(), use, nil
}
