package loadtest

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fakes are the outside services of the delivery workloads, on loopback
// ports of this process: an APNs that answers every push 200 (HTTP/2 over
// TLS, as Apple's), and a webhook receiver that answers 200, or 503 while
// it is down. They keep only what the report needs: when each challenge's
// notification and each event's first 2xx arrived. They check nothing
// else (the end-to-end tests check requests and signatures); a fake that
// verified signatures would add its own CPU to the server's.
type fakes struct {
	apns, hook *httptest.Server
	// gateway is the SMS gateway of the classic workloads (classic.go).
	gateway *httptest.Server
	gw      *gatewayFake
	// clientTLS trusts the fake APNs' certificate, for the push sender.
	clientTLS *tls.Config

	mu       sync.Mutex
	notified map[string]time.Time // challenge_sid → first arrival
	hooked   map[string]bool      // event uuids answered 2xx
	arrivals []time.Time          // first 2xx of each event, in order
	pushes   atomic.Int64         // push requests answered
	refused  atomic.Int64         // webhook requests answered 503
	down     atomic.Bool
}

func startFakes() *fakes {
	f := &fakes{notified: map[string]time.Time{}, hooked: map[string]bool{}}
	f.apns = httptest.NewUnstartedServer(http.HandlerFunc(f.serveAPNs))
	f.apns.EnableHTTP2 = true
	f.apns.StartTLS()
	roots := x509.NewCertPool()
	roots.AddCert(f.apns.Certificate())
	f.clientTLS = &tls.Config{RootCAs: roots}
	f.hook = httptest.NewServer(http.HandlerFunc(f.serveHook))
	f.gw = &gatewayFake{secret: rand.Text(), codes: map[string]string{}}
	f.gateway = httptest.NewServer(f.gw)
	return f
}

func (f *fakes) close() {
	f.apns.Close()
	f.hook.Close()
	f.gateway.Close()
}

func (f *fakes) serveAPNs(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	var p struct {
		ChallengeSid string `json:"challenge_sid"`
	}
	if r.ProtoMajor != 2 || !strings.HasPrefix(r.URL.Path, "/3/device/") || json.NewDecoder(r.Body).Decode(&p) != nil || p.ChallengeSid == "" {
		http.Error(w, `{"reason":"BadPath"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	if _, ok := f.notified[p.ChallengeSid]; !ok {
		f.notified[p.ChallengeSid] = at
	}
	f.mu.Unlock()
	f.pushes.Add(1)
	w.Header().Set("apns-id", "8B2A0A5E-4F5E-4F3B-9C1D-000000000000")
}

func (f *fakes) serveHook(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		f.refused.Add(1)
		http.Error(w, "down for the bench", http.StatusServiceUnavailable)
		return
	}
	at := time.Now()
	uuid := r.PostFormValue("uuid")
	if uuid == "" {
		http.Error(w, "no uuid", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	if !f.hooked[uuid] {
		f.hooked[uuid] = true
		f.arrivals = append(f.arrivals, at)
	}
	f.mu.Unlock()
}

// notifiedAt returns when the challenge's notification arrived.
func (f *fakes) notifiedAt(sid string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.notified[sid]
	return t, ok
}

// delivered returns how many distinct events have been answered 2xx.
func (f *fakes) delivered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.arrivals)
}

// arrivedSince returns the arrival times of the events first delivered
// after the first mark of them (a delivered count).
func (f *fakes) arrivedSince(mark int) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.arrivals[mark:]...)
}
