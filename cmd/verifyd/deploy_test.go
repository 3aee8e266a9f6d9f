package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit checks deploy/verifyd.service with systemd-analyze
// verify (its ExecStart pointed at this test binary, which exists), and
// that it keeps the sandbox the README promises.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../deploy/verifyd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=verifyd", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "UMask=0077", "ExecStart=/usr/local/bin/verifyd serve"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is needed to check the unit (Debian: systemd): %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "verifyd.service")
	text := strings.Replace(string(unit), "ExecStart=/usr/local/bin/verifyd", "ExecStart="+self, 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
