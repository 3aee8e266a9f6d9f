package loadtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestProfileWindow: a window's CPU profile and execution trace are both
// written, and stopping returns what closing them said.
func TestProfileWindow(t *testing.T) {
	dir := t.TempDir()
	cpu, tr := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "trace.out")
	stop, err := profileWindow(cpu, tr)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1e6; i++ {
		_ = fmt.Sprint(i)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cpu, tr} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v %v", p, st, err)
		}
	}
	if _, err := profileWindow("", filepath.Join(dir, "missing", "trace.out")); err == nil {
		t.Fatal("a trace in a missing directory started")
	}
}
