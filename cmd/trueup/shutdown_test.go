package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeShutsDownOnSIGTERM starts `trueup serve`, sends SIGTERM and sees
// it stop cleanly: exit status 0 and the shutdown in its log.
func TestServeShutsDownOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	p := startServer(t, "--data", t.TempDir())
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("server still running 30 s after SIGTERM:\n%s", p.Logs())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0:\n%s", code, p.Logs())
	}
	if !strings.Contains(p.Logs(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown in the log:\n%s", p.Logs())
	}
}
