package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/statement"
)

// cliCall is one run of the command line.
type cliCall struct {
	args []string
	env  map[string]string // the environment variables the command sees
	now  time.Time         // the commands' clock; time.Now when zero
}

// run runs the call in-process and returns its exit status and output.
func (c cliCall) run(tb testing.TB) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return c.env[k] }}
	if !c.now.IsZero() {
		env.Now = func() time.Time { return c.now }
	}
	code = Run(context.Background(), c.args, env)
	return code, out.String(), errb.String()
}

// commandPaths returns the argument lists that name every command of the
// tree under root, root included, with the command each names.
func commandPaths(root *cobra.Command) map[string]*cobra.Command {
	paths := map[string]*cobra.Command{}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden {
			return
		}
		paths[strings.Join(path, " ")] = c
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(root, nil)
	return paths
}

// TestHelp runs --help (and -h) on every command: exit 0, the help on
// stdout with the command's usage line (its positional arguments) and
// every one of its flags.
func TestHelp(t *testing.T) {
	root := newRootCmd(Env{Getenv: func(string) string { return "" }})
	paths := commandPaths(root)
	for _, want := range []string{"", "serve", "admin carrier create", "admin client list", "admin buyer cap", "admin riskclient update", "admin apikey create", "admin apikey revoke",
		"admin operator create", "admin operator list", "admin operator disable", "admin operator enable", "admin operator password",
		"import orders", "import transactions", "import risk", "template", "verify", "batch status", "batch list", "events",
		"adjustments launch", "adjustments confirm", "adjustments cancel", "adjustments show", "adjustments list", "version",
		"cases list", "cases show", "cases resolve", "cases assign", "cases comment", "cases sla",
		"cycle show", "cycle export", "cycle close", "cycle reopen",
		"audit verify", "audit list", "webhooks create", "webhooks list", "webhooks deliveries", "webhooks redeliver", "webhooks delete", "webhooks rotate",
		"completion bash", "completion zsh", "completion fish", "completion powershell", "help"} {
		if _, ok := paths[want]; !ok {
			t.Errorf("no command %q", want)
		}
	}
	for path, cmd := range paths {
		for _, flag := range []string{"--help", "-h"} {
			args := append(strings.Fields(path), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, stdout, stderr := cliCall{args: args}.run(t)
				if code != 0 {
					t.Fatalf("exit %d, want 0\n%s", code, stderr)
				}
				if stderr != "" {
					t.Errorf("stderr %q, want nothing", stderr)
				}
				if !strings.Contains(stdout, "Usage:") {
					t.Errorf("no Usage: in\n%s", stdout)
				}
				if cmd.Runnable() && !cmd.HasAvailableSubCommands() && !strings.Contains(stdout, cmd.UseLine()) {
					t.Errorf("usage line %q missing from\n%s", cmd.UseLine(), stdout)
				}
				for _, sub := range cmd.Commands() {
					if sub.IsAvailableCommand() && !strings.Contains(stdout, sub.Name()) {
						t.Errorf("subcommand %s missing from\n%s", sub.Name(), stdout)
					}
				}
				cmd.Flags().VisitAll(func(f *pflag.Flag) {
					if !f.Hidden && !strings.Contains(stdout, "--"+f.Name) {
						t.Errorf("flag --%s missing from\n%s", f.Name, stdout)
					}
				})
			})
		}
	}
}

// TestUsageErrors checks that a wrong command line exits 2 with a message
// on stderr that says what is wrong, and writes nothing to stdout.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"no command", nil, []string{"Usage:", "Available Commands:", "verify"}},
		{"unknown command", []string{"bogus"}, []string{`unknown command "bogus" for "trueup"`, "trueup --help"}},
		{"misspelt command", []string{"verfy"}, []string{`unknown command "verfy"`, `did you mean "verify"?`}},
		{"group alone", []string{"admin"}, []string{"Usage:", "trueup admin [command]", "carrier"}},
		{"nested group alone", []string{"admin", "carrier"}, []string{"trueup admin carrier [command]", "whitelist"}},
		{"unknown subcommand", []string{"admin", "bogus"}, []string{`unknown command "bogus" for "trueup admin"`}},
		{"completion alone", []string{"completion"}, []string{"bash"}},
		{"unknown flag", []string{"verify", "--bogus"}, []string{"unknown flag: --bogus"}},
		{"flag of another command", []string{"template", "--carrier", "x", "t.xlsx"}, []string{"unknown flag: --carrier"}},
		{"flag without value", []string{"events", "--carrier"}, []string{"flag needs an argument: --carrier"}},
		{"missing argument", []string{"batch", "status", "--data", dir}, []string{"give BATCHNO; got none"}},
		{"extra argument", []string{"admin", "carrier", "timezone", "car_1", "UTC", "more", "--data", dir}, []string{"give ID ZONE; got 3"}},
		{"missing required flag", []string{"events", "--data", dir}, []string{"--carrier ID is required"}},
		{"missing required flags", []string{"verify", "statement.xlsx", "--data", dir}, []string{"--carrier ID and --cycle YYYY-MM are required"}},
		{"bad number", []string{"events", "--carrier", "c", "--limit", "many"}, []string{`invalid argument "many" for "--limit"`}},
		{"negative limit", []string{"events", "--carrier", "c", "--limit", "-1", "--data", dir}, []string{"--limit -1"}},
		{"bad index mode", []string{"import", "risk", "--index", "sometimes", "f.csv", "--data", dir}, []string{`--index "sometimes"`}},
		{"bad adjustment id", []string{"adjustments", "show", "not-a-uuid", "--data", dir}, []string{"a UUID"}},
		{"bad reject cap", []string{"admin", "buyer", "create", "--name", "B", "--reject-cap", "150", "--data", dir}, []string{"--reject-cap"}},
		{"bad database url", []string{"admin", "carrier", "list", "--database-url", "mysql://x"}, []string{"--database-url must start with postgres://"}},
		{"template without file", []string{"template"}, []string{"give FILE; got none"}},
		{"version with argument", []string{"version", "now"}, []string{"give no arguments"}},
		{"unknown help topic", []string{"help", "admin", "bogus"}, []string{`unknown help topic "admin bogus"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cliCall{args: tt.args}.run(t)
			if code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("a usage error touched the database directory: %v %v", entries, err)
	}
}

// TestExitStatus checks 0 for success and 1 for a command that fails.
func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout when 0, in stderr otherwise
	}{
		{"help command", []string{"help"}, 0, "Available Commands:"},
		{"help of a command", []string{"help", "verify"}, 0, "--cycle"},
		{"help of a subcommand", []string{"help", "admin", "client", "rotate"}, 0, "trueup admin client rotate CLIENT_ID"},
		{"list", []string{"admin", "carrier", "list", "--data", dir}, 0, "ID  NAME"},
		{"unknown batch", []string{"batch", "status", "20250101_1", "--data", dir}, 1, "trueup batch status: "},
		{"unknown carrier", []string{"events", "--carrier", "car_nobody", "--data", dir}, 1, "trueup events: "},
		{"bash completion", []string{"completion", "bash"}, 0, "bash completion"},
		{"zsh completion", []string{"completion", "zsh"}, 0, "#compdef trueup"},
		{"fish completion", []string{"completion", "fish"}, 0, "complete -c trueup"},
		{"powershell completion", []string{"completion", "powershell"}, 0, "Register-ArgumentCompleter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cliCall{args: tt.args}.run(t)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			got := stdout
			if code != 0 {
				got = stderr
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, got)
			}
		})
	}
}

// TestVersion checks `trueup version`, --version and -v.
func TestVersion(t *testing.T) {
	b := trueuphttp.ReadBuildInfo()
	want := "trueup " + b.Version + " (revision " + b.Revision + ", " + b.GoVersion + ")\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := cliCall{args: args}.run(t)
			if code != 0 || stdout != want {
				t.Errorf("exit %d, stdout %q, want 0, %q\n%s", code, stdout, want, stderr)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		var got trueuphttp.BuildInfo
		if err := json.Unmarshal([]byte(runCLI(t, "version", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if got != b || got.GoVersion == "" || got.Version == "" || got.Revision == "" {
			t.Errorf("version --json = %+v, want %+v", got, b)
		}
	})
}

// TestCompatibleCommandLines checks command lines written for trueup's
// earlier parser: single-dash long flags and flags after the positional
// arguments.
func TestCompatibleCommandLines(t *testing.T) {
	dir := t.TempDir()
	var cred struct {
		CarrierID string `json:"carrierId"`
	}
	runCLIJSON(t, &cred, "admin", "carrier", "create", "-name", "Old Script Mobile", "-data="+dir, "-timezone", "Asia/Shanghai")
	if cred.CarrierID == "" {
		t.Fatal("no carrierId")
	}
	if out := runCLI(t, "admin", "carrier", "timezone", cred.CarrierID, "UTC", "-data", dir, "-json"); !strings.Contains(out, `"timeZone": "UTC"`) {
		t.Errorf("timezone with flags after the arguments: %s", out)
	}
	if out := runCLI(t, "admin", "carrier", "whitelist", "--data", dir, cred.CarrierID); !strings.Contains(out, "whitelisted: true") {
		t.Errorf("whitelist: %s", out)
	}
	var list []struct {
		CarrierID   string `json:"carrierId"`
		Whitelisted bool   `json:"whitelisted"`
		TimeZone    string `json:"timeZone"`
	}
	runCLIJSON(t, &list, "admin", "carrier", "list", "--data", dir)
	if len(list) != 1 || list[0].CarrierID != cred.CarrierID || !list[0].Whitelisted || list[0].TimeZone != "UTC" {
		t.Errorf("carrier list = %+v", list)
	}
	t.Run("after --", func(t *testing.T) {
		code, _, stderr := cliCall{args: []string{"batch", "status", "--data", dir, "--", "-json"}}.run(t)
		if code != 1 || !strings.Contains(stderr, "-json") {
			t.Errorf("exit %d, want 1 for batch -json not found: %s", code, stderr)
		}
	})
}

// TestDatabaseEnv checks TRUEUP_DATA and TRUEUP_DATABASE_URL and that a
// flag given beats them.
func TestDatabaseEnv(t *testing.T) {
	fromEnv, fromFlag := t.TempDir(), t.TempDir()
	call := cliCall{args: []string{"admin", "carrier", "create", "--name", "Env Mobile", "--json"}, env: map[string]string{"TRUEUP_DATA": fromEnv}}
	if code, _, stderr := call.run(t); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	count := func(c cliCall) int {
		t.Helper()
		code, stdout, stderr := c.run(t)
		if code != 0 {
			t.Fatalf("trueup %s: exit %d: %s", strings.Join(c.args, " "), code, stderr)
		}
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(stdout), &list); err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	env := map[string]string{"TRUEUP_DATA": fromEnv}
	if n := count(cliCall{args: []string{"admin", "carrier", "list", "--json"}, env: env}); n != 1 {
		t.Errorf("TRUEUP_DATA: %d carriers, want 1", n)
	}
	if n := count(cliCall{args: []string{"admin", "carrier", "list", "--json", "--data", fromFlag}, env: env}); n != 0 {
		t.Errorf("--data beside TRUEUP_DATA: %d carriers, want 0 (the flag's database)", n)
	}
	env = map[string]string{"TRUEUP_DATABASE_URL": "mysql://elsewhere"}
	if n := count(cliCall{args: []string{"admin", "carrier", "list", "--json", "--data", fromEnv}, env: env}); n != 1 {
		t.Errorf("--data beside TRUEUP_DATABASE_URL: %d carriers, want 1 (the flag's database)", n)
	}
	code, _, stderr := cliCall{args: []string{"admin", "carrier", "list"}, env: env}.run(t)
	if code != 2 || !strings.Contains(stderr, "TRUEUP_DATABASE_URL must start with postgres://") {
		t.Errorf("bad TRUEUP_DATABASE_URL: exit %d: %s", code, stderr)
	}
}

// TestServeEnv checks that every serve flag has a TRUEUP_* variable that
// sets it, and that a flag given beats its variable.
func TestServeEnv(t *testing.T) {
	env := map[string]string{
		"TRUEUP_ADDR":                      "127.0.0.1:9999",
		"TRUEUP_WORKERS":                   "7",
		"TRUEUP_JOB_LEASE":                 "45s",
		"TRUEUP_TOKEN_TTL":                 "2h",
		"TRUEUP_MAX_UPLOAD_BYTES":          "1048576",
		"TRUEUP_DEMO":                      "true",
		"TRUEUP_LOG_LEVEL":                 "debug",
		"TRUEUP_MEMORY_LIMIT":              "0",
		"TRUEUP_TLS_CERT":                  "cert.pem",
		"TRUEUP_TLS_KEY":                   "key.pem",
		"TRUEUP_BODY_TIMEOUT":              "5s",
		"TRUEUP_UPLOAD_IDLE_TIMEOUT":       "6s",
		"TRUEUP_UPLOAD_MIN_RATE":           "100",
		"TRUEUP_MAX_UPLOADS":               "3",
		"TRUEUP_MAX_HEADER_BYTES":          "4096",
		"TRUEUP_TOKEN_RATE":                "2.5",
		"TRUEUP_TOKEN_BURST":               "4",
		"TRUEUP_TOKEN_ADDR_RATE":           "7.5",
		"TRUEUP_TOKEN_ADDR_BURST":          "9",
		"TRUEUP_TEMP_DIR":                  "/var/tmp/trueup",
		"TRUEUP_MAX_SHARED_STRINGS":        "1000000",
		"TRUEUP_MAX_INFLATED":              "2000000",
		"TRUEUP_MAX_CELL_BYTES":            "300",
		"TRUEUP_MAX_ROW_BYTES":             "4000",
		"TRUEUP_MAX_ROW_CELLS":             "50",
		"TRUEUP_WEBHOOK_TIMEOUT":           "3s",
		"TRUEUP_WEBHOOK_ALLOW_PRIVATE":     "true",
		"TRUEUP_WEBHOOK_MAX_SUBSCRIPTIONS": "5",
		"TRUEUP_WEBHOOK_ROTATION_GRACE":    "2h",
		"TRUEUP_MATCH_MEMORY":              "1000000",
		"TRUEUP_BATCH_PARTITIONS":          "4",
		"TRUEUP_CASE_NOTE_MAX_BYTES":       "500",
		"TRUEUP_SESSION_TTL":               "8h",
		"TRUEUP_SESSION_IDLE_TIMEOUT":      "20m",
		"TRUEUP_SIGNIN_SLOW_AFTER":         "4",
		"TRUEUP_SIGNIN_MAX_FAILURES":       "8",
		"TRUEUP_SIGNIN_LOCKOUT":            "10m",
		"TRUEUP_SECURE_COOKIES":            "true",
		"TRUEUP_CONSOLE_PROGRESS_STREAMS":  "5",
		"TRUEUP_XLSX_STRINGS_MEMORY":       "500000",
	}
	e := Env{Getenv: func(k string) string { return env[k] }}
	cmd := newServeCmd(e)
	fs := cmd.Flags()
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		v := "TRUEUP_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if !strings.Contains(f.Usage, "(env "+v+")") {
			t.Errorf("--%s: help %q does not name %s", f.Name, f.Usage, v)
		}
		if _, ok := env[v]; !ok && f.Name != "data" && f.Name != "database-url" {
			t.Errorf("--%s: %s is not in this test", f.Name, v)
		}
	})
	if err := fs.Parse([]string{"--workers", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs, e); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"addr": "127.0.0.1:9999", "workers": "3", "job-lease": "45s", "token-ttl": "2h0m0s",
		"max-upload-bytes": "1048576", "demo": "true", "log-level": "debug", "memory-limit": "0", "tls-cert": "cert.pem", "tls-key": "key.pem",
		"body-timeout": "5s", "upload-idle-timeout": "6s", "upload-min-rate": "100", "max-uploads": "3", "max-header-bytes": "4096",
		"token-rate": "2.5", "token-burst": "4", "token-addr-rate": "7.5", "token-addr-burst": "9", "temp-dir": "/var/tmp/trueup",
		"max-shared-strings": "1000000", "max-inflated": "2000000", "max-cell-bytes": "300", "max-row-bytes": "4000", "max-row-cells": "50", "webhook-timeout": "3s", "match-memory": "1000000",
		"case-note-max-bytes": "500", "webhook-allow-private": "true", "webhook-max-subscriptions": "5", "webhook-rotation-grace": "2h0m0s", "batch-partitions": "4",
		"session-ttl": "8h0m0s", "session-idle-timeout": "20m0s", "signin-slow-after": "4", "signin-max-failures": "8", "signin-lockout": "10m0s", "secure-cookies": "true"} {
		if got := fs.Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}

	t.Run("bad values", func(t *testing.T) {
		tests := []struct {
			env  map[string]string
			want string
		}{
			{map[string]string{"TRUEUP_WORKERS": "many"}, `TRUEUP_WORKERS="many" is not a valid --workers (int)`},
			{map[string]string{"TRUEUP_JOB_LEASE": "30"}, `TRUEUP_JOB_LEASE="30" is not a valid --job-lease (duration)`},
			{map[string]string{"TRUEUP_DEMO": "sure"}, `TRUEUP_DEMO="sure" is not a valid --demo (bool)`},
			{map[string]string{"TRUEUP_LOG_LEVEL": "loud"}, `--log-level "loud"`},
			{map[string]string{"TRUEUP_BATCH_PARTITIONS": "0"}, `--batch-partitions 0: use 1 to 256`},
			{map[string]string{"TRUEUP_BATCH_PARTITIONS": "257"}, `--batch-partitions 257: use 1 to 256`},
		}
		for _, tt := range tests {
			code, _, stderr := cliCall{args: []string{"serve", "--data", t.TempDir()}, env: tt.env}.run(t)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.env, code, stderr, tt.want)
			}
		}
	})

	t.Run("server", func(t *testing.T) {
		// A real server configured by the environment, but for --addr,
		// which beats TRUEUP_ADDR.
		addr := freeAddr(t)
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logs := &watchWriter{want: `"msg":"trueup serving"`, seen: make(chan struct{})}
		env := map[string]string{"TRUEUP_ADDR": "256.0.0.1:1", "TRUEUP_DATA": dir, "TRUEUP_WORKERS": "1", "TRUEUP_LOG_LEVEL": "info"}
		done := make(chan int)
		go func() {
			done <- Run(ctx, []string{"serve", "--addr", addr}, Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: logs,
				Getenv: func(k string) string { return env[k] }})
		}()
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, logs.String())
		case <-logs.seen:
		}
		if !strings.Contains(logs.String(), `"addr":"`+addr+`"`) {
			t.Errorf("not serving on --addr %s:\n%s", addr, logs.String())
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b := trueuphttp.ReadBuildInfo(); !strings.Contains(string(body), `trueup_build_info{goversion="`+b.GoVersion+`",revision="`+b.Revision+`",version="`+b.Version+`"} 1`) {
			t.Errorf("/metrics has no trueup_build_info gauge of %+v", b)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, logs.String())
		}
		if entries, _ := os.ReadDir(dir); len(entries) == 0 {
			t.Errorf("TRUEUP_DATA: no database in %s", dir)
		}
	})
}

// watchWriter keeps what is written and closes seen when it first holds
// want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	shut bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.shut && strings.Contains(w.buf.String(), w.want) {
		w.shut = true
		close(w.seen)
	}
	return n, err
}

// String returns what was written so far.
func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestTemplateFile checks that the template is written as the file's
// extension says, and that other names are refused.
func TestTemplateFile(t *testing.T) {
	dir := t.TempDir()
	header := make([]string, len(statement.Columns))
	for i, c := range statement.Columns {
		header[i] = c.Name
	}
	tests := []struct {
		name   string
		file   string
		code   int
		format statement.Format // of the file written
	}{
		{"xlsx", "template.xlsx", 0, statement.XLSX},
		{"upper-case xlsx", "TEMPLATE.XLSX", 0, statement.XLSX},
		{"csv", "template.csv", 0, statement.CSV},
		{"upper-case csv", "Template.CSV", 0, statement.CSV},
		{"xls", "template.xls", 2, ""},
		{"no extension", "template", 2, ""},
		{"text", "template.txt", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			code, stdout, stderr := cliCall{args: []string{"template", path}}.run(t)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			if code != 0 {
				if !strings.Contains(stderr, "name the file template.xlsx or template.csv") {
					t.Errorf("stderr %q does not say how to name the file", stderr)
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("%s was written (%v)", path, err)
				}
				return
			}
			if stdout != "wrote "+path+"\n" {
				t.Errorf("stdout %q", stdout)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			format, err := sheet.Detect(data, path)
			if err != nil || format != tt.format {
				t.Fatalf("the file is %q (%v), want %q", format, err, tt.format)
			}
			r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), format)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			row, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(row.Cells, header) {
				t.Errorf("header %q, want %q", row.Cells, header)
			}
			if _, err := statement.MapHeader(row.Cells); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestVerifyCycle checks that offline verify applies the API's cycle rule
// with the API's message, against the commands' clock.
func TestVerifyCycle(t *testing.T) {
	now := time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	var cred struct {
		CarrierID string `json:"carrierId"`
	}
	runCLIJSON(t, &cred, "admin", "carrier", "create", "--name", "Cycle Mobile", "--data", dir)
	file := filepath.Join(dir, "statement.csv")
	runCLI(t, "template", file)
	tests := []struct {
		cycle string
		ok    bool
	}{
		{"2026-02", true},
		{"2025-12", true},
		{"2026-03", false},
		{"2026-04", false},
		{"2027-01", false},
		{"2026-13", false},
		{"2026-2", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.cycle, func(t *testing.T) {
			code, _, stderr := cliCall{args: []string{"verify", "--carrier", cred.CarrierID, "--cycle", tt.cycle, file, "--data", dir}, now: now}.run(t)
			if tt.ok {
				if code != 0 {
					t.Errorf("exit %d: %s", code, stderr)
				}
				return
			}
			_, apiErr := batch.CheckCycle(tt.cycle, now)
			if apiErr == nil {
				t.Fatalf("the API accepts %q", tt.cycle)
			}
			want := "--cycle: " + trueup.ErrorMessage(apiErr)
			if code != 2 || !strings.Contains(stderr, want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
			}
		})
	}
}

// TestVerifyLedger checks offline verify against an empty ledger (a
// warning) and a loaded one (none), and what --out reports writing.
func TestVerifyLedger(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		store, dbArgs := eng.open(t)
		store.Close()
		dir := t.TempDir()
		now := time.Date(2026, time.March, 10, 0, 0, 0, 0, time.UTC)
		spec := gen.Spec{Orders: 40, Cycle: trueup.Cycle{Year: 2026, Month: time.February}, Seed: 7, MissingEvery: 9, ExtraEvery: 11, RightsEvery: 13, AmountEvery: 17}
		stmt, ledgerFile := filepath.Join(dir, "statement.csv"), filepath.Join(dir, "orders.csv")
		writeWith(t, stmt, spec.WriteCSV)
		writeWith(t, ledgerFile, spec.WriteLedgerCSV)
		var cred struct {
			CarrierID string `json:"carrierId"`
		}
		runCLIJSON(t, &cred, append([]string{"admin", "carrier", "create", "--name", "Ledger Mobile"}, dbArgs...)...)
		verify := func(out string, extra ...string) (int, string, string) {
			args := append([]string{"verify", stmt, "--carrier", cred.CarrierID, "--cycle", "2026-02", "--out", out}, dbArgs...)
			return cliCall{args: append(args, extra...), now: now}.run(t)
		}
		const warning = "warning: the ledger is empty for carrier "

		code, stdout, stderr := verify(filepath.Join(dir, "empty.csv"))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if want := warning + cred.CarrierID + " and cycle 2026-02"; !strings.Contains(stderr, want) {
			t.Errorf("empty ledger: stderr %q lacks %q", stderr, want)
		}
		if !strings.Contains(stderr, "trueup import orders --carrier "+cred.CarrierID) {
			t.Errorf("the warning does not say how to load the ledger: %q", stderr)
		}
		rows := int64(spec.Orders) - spec.Expected()[trueup.DiffMissingOnCarrier] + spec.Expected()[trueup.DiffMissingOnPlatform]
		if want := fmt.Sprintf("wrote %s (csv): a header and %d discrepancy rows\n", filepath.Join(dir, "empty.csv"), rows); !strings.HasSuffix(stdout, want) {
			t.Errorf("stdout %q does not end with %q", stdout, want)
		}

		runCLI(t, append([]string{"import", "orders", "--carrier", cred.CarrierID, ledgerFile}, dbArgs...)...)
		out := filepath.Join(dir, "report.xlsx")
		code, stdout, stderr = verify(out)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if strings.Contains(stderr, warning) {
			t.Errorf("loaded ledger: warning given: %q", stderr)
		}
		want := spec.Expected()
		if line := fmt.Sprintf("wrote %s (xlsx): a header and %d discrepancy rows\n", out, want.Total()); !strings.HasSuffix(stdout, line) {
			t.Errorf("stdout %q does not end with %q", stdout, line)
		}
		if n := countRows(t, out); n != want.Total()+1 {
			t.Errorf("%s holds %d rows, want a header and %d", out, n, want.Total())
		}
		// Every kind of trueup.Kinds has its line, with its count.
		for _, k := range trueup.Kinds {
			if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d %s +%d$`, k.Type, regexp.QuoteMeta(k.Label), want[k.Type])).MatchString(stdout) {
				t.Errorf("stdout %q has no line %q with the count %d", stdout, fmt.Sprintf("%d %s", k.Type, k.Label), want[k.Type])
			}
		}

		code, stdout, stderr = verify(filepath.Join(dir, "report.csv"), "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res struct {
			Counts       map[string]int64 `json:"counts"`
			Total        int64            `json:"total"`
			LedgerOrders int64            `json:"ledgerOrders"`
			Out          struct {
				Path   string `json:"path"`
				Format string `json:"format"`
				Rows   int64  `json:"rows"`
			} `json:"out"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if res.Total != want.Total() || res.LedgerOrders != int64(spec.Orders) || res.Out.Path != filepath.Join(dir, "report.csv") || res.Out.Format != "csv" || res.Out.Rows != want.Total() {
			t.Errorf("verify --json = %+v, want total %d, ledgerOrders %d, out report.csv csv %d rows", res, want.Total(), spec.Orders, want.Total())
		}
		if len(res.Counts) != len(trueup.Kinds) {
			t.Errorf("verify --json counts = %v, want a key for each of the %d kinds", res.Counts, len(trueup.Kinds))
		}
		for _, k := range trueup.Kinds {
			if n, ok := res.Counts[k.Type.Key()]; !ok || n != want[k.Type] {
				t.Errorf("verify --json counts[%q] = %d (present %v), want %d", k.Type.Key(), n, ok, want[k.Type])
			}
		}
	})
}

// writeWith writes the file at path with write.
func writeWith(tb testing.TB, path string, write func(io.Writer) error) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := write(f); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// countRows returns the number of rows of a spreadsheet or CSV file.
func countRows(tb testing.TB, path string) int64 {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	format, err := sheet.Detect(data, path)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), format)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var n int64
	for {
		if _, err := r.Next(); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}
