package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trueup/trueup"
)

// TestDemoStatementPrivate checks that the demo writes its statement in a
// folder of its own, never through a name another user of the temporary
// folder could have planted (a symlink at the old fixed path).
func TestDemoStatementPrivate(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cycle := trueup.Cycle{Year: 2025, Month: 9}
	victim := filepath.Join(t.TempDir(), "victim.txt")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(tmp, "trueup-demo-statement-"+cycle.String()+".csv")
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	spec := demoSpec(cycle)
	spec.Orders = 10
	var paths []string
	for i := 0; i < 2; i++ {
		path, err := writeDemoStatement(spec)
		if err != nil {
			t.Fatalf("writeDemoStatement: %v", err)
		}
		paths = append(paths, path)
		if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
			t.Fatalf("the file behind the planted symlink was overwritten: %q, %v", b, err)
		}
		info, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("statement folder %s has mode %v, want private to its owner", filepath.Dir(path), perm)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("statement %s: %v, size %v", path, err, st)
		}
	}
	if paths[0] == paths[1] {
		t.Errorf("two demos wrote the same path %s, want a fresh folder each", paths[0])
	}
}
