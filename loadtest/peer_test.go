package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify/otp"
)

// totpEngine is a TOTP secrets engine as OpenBao's answers it, in this
// process, for the peer workload to drive: keys are created with a base32
// key, period, skew and digits (204), and a code is valid once, if it is a
// step's within the skew; a code used before is refused with a 400, as
// OpenBao refuses it.
type totpEngine struct {
	token string
	mu    sync.Mutex
	keys  map[string]engineKey
	used  map[string]bool // name + "/" + code
	valid int
	reuse int
}

type engineKey struct {
	secret       []byte
	period, skew int64
	digits       int
}

func (e *totpEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+e.token || r.Method != http.MethodPost ||
		r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"errors":["permission denied"]}`, http.StatusForbidden)
		return
	}
	var body struct {
		Key       string `json:"key"`
		Period    int64  `json:"period"`
		Skew      int64  `json:"skew"`
		Digits    int    `json:"digits"`
		Algorithm string `json:"algorithm"`
		Code      string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"errors":["bad json"]}`, http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch name, ok := strings.CutPrefix(r.URL.Path, "/v1/totp/keys/"); {
	case ok:
		secret, err := otp.DecodeSecret(body.Key)
		if err != nil || body.Skew > 1 || body.Algorithm != "SHA1" {
			http.Error(w, `{"errors":["bad key"]}`, http.StatusBadRequest)
			return
		}
		e.keys[name] = engineKey{secret: secret, period: body.Period, skew: body.Skew, digits: body.Digits}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/v1/totp/code/")
	k, known := e.keys[name]
	if !ok || !known {
		http.Error(w, `{"errors":["unknown key"]}`, http.StatusBadRequest)
		return
	}
	if e.used[name+"/"+body.Code] {
		e.reuse++
		http.Error(w, `{"errors":["code already used; wait until the next time period"]}`, http.StatusBadRequest)
		return
	}
	valid := false
	cur := time.Now().Unix() / k.period
	for s := cur - k.skew; s <= cur+k.skew; s++ {
		if c, err := otp.HOTP(k.secret, uint64(s), "sha1", k.digits); err == nil && c == body.Code {
			valid = true
		}
	}
	if valid {
		e.used[name+"/"+body.Code] = true
		e.valid++
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]bool{"valid": valid}})
}

// TestPeerTotp drives a TOTP engine on loopback as the peer: every check
// carries a right code never sent before (none refused as reused, every
// one valid), the workload is compared with the TOTP floor of the same run,
// and the peer's CPU is read from its process (this one).
func TestPeerTotp(t *testing.T) {
	engine := &totpEngine{token: "s.peer-token", keys: map[string]engineKey{}, used: map[string]bool{}}
	peer := httptest.NewServer(engine)
	defer peer.Close()
	var log strings.Builder
	rep, err := Run(context.Background(), Config{
		Workloads:   []string{FloorTotp, PeerTotp},
		Duration:    time.Second,
		Rounds:      2,
		Concurrency: 4,
		MaxRequests: 1000, // enough CPU time for /proc's 10 ms ticks to see
		Factors:     10,
		PeerURL:     peer.URL,
		PeerToken:   engine.token,
		PeerKeys:    600, // 3 fresh codes each, 2 in a step's last seconds (codepool.go): 1,200 > 1,000
		PeerPID:     os.Getpid(),
		Timeout:     2 * time.Minute,
		Log:         &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	var r *Result
	for i := range rep.Results {
		if rep.Results[i].Workload == PeerTotp {
			r = &rep.Results[i]
		}
	}
	if r == nil {
		t.Fatalf("no %s result in %+v", PeerTotp, rep.Results)
	}
	if r.Requests == 0 || r.Errors != 0 || r.DryAfterSeconds != 0 {
		t.Fatalf("%d requests, %d errors %v, dry after %vs\n%s", r.Requests, r.Errors, r.ErrorSamples, r.DryAfterSeconds, log.String())
	}
	engine.mu.Lock()
	valid, reuse, keys := engine.valid, engine.reuse, len(engine.keys)
	engine.mu.Unlock()
	if keys != 600 || reuse != 0 || int64(valid) != r.Requests {
		t.Errorf("the peer has %d keys, saw %d reused codes and %d valid ones; want 600, 0 and %d", keys, reuse, valid, r.Requests)
	}
	if r.VsFloor <= 0 || r.ServerCPUMicros <= 0 {
		t.Errorf("no ratio to the floor (%v) or no peer CPU per check (%v)", r.VsFloor, r.ServerCPUMicros)
	}
}

// TestPeerTotpNeedsURL: the workload says what it lacks instead of
// measuring nothing.
func TestPeerTotpNeedsURL(t *testing.T) {
	_, err := Run(context.Background(), Config{Workloads: []string{PeerTotp}, Duration: time.Second, Concurrency: 2,
		MaxRequests: 10, Factors: 10, Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "--peer-url") {
		t.Fatalf("Run without a peer: %v, want an error naming --peer-url", err)
	}
}
