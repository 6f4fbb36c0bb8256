package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the trueup binary: with TRUEUP_RUN_MAIN set it
// runs the command line after "--", so tests can start, kill and restart a
// real server process.
func TestMain(m *testing.M) {
	if os.Getenv("TRUEUP_RUN_MAIN") == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		main2(args)
		return
	}
	os.Exit(m.Run())
}

func main2(args []string) {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(Run(ctx, args, Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}

// runCLI runs a trueup command in-process and returns its stdout.
func runCLI(tb testing.TB, args ...string) string {
	tb.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != 0 {
		tb.Fatalf("trueup %s: exit %d: %s%s", strings.Join(args, " "), code, errb.String(), out.String())
	}
	return out.String()
}

// runCLIJSON runs a command with --json and decodes its output into v.
func runCLIJSON(tb testing.TB, v any, args ...string) {
	tb.Helper()
	out := runCLI(tb, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		tb.Fatalf("trueup %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// process is a trueup server running as a child process.
type process struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

// Logs returns what the process wrote so far.
func (p *process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer starts `trueup serve` as a child process and waits until it
// is ready.
func startServer(tb testing.TB, args ...string) *process {
	tb.Helper()
	return startServerEnv(tb, nil, args...)
}

// startServerEnv is startServer with more environment variables
// (NAME=value) for the child process.
func startServerEnv(tb testing.TB, env []string, args ...string) *process {
	tb.Helper()
	addr := freeAddr(tb)
	p := &process{addr: addr, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"-test.run=^$", "--", "serve", "--addr", addr}, args...)...)
	p.cmd.Env = append(append(os.Environ(), "TRUEUP_RUN_MAIN=1"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start server: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			tb.Fatalf("server exited early:\n%s", p.Logs())
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("server not ready after 60s:\n%s", p.Logs())
	return nil
}

// kill sends SIGKILL and waits for the process to die.
func (p *process) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	<-p.done
}

func (p *process) url(path string) string { return fmt.Sprintf("http://%s%s", p.addr, path) }
