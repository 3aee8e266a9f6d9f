package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenLoopFactorList runs factor-list open loop against the in-process
// server on loopback HTTP. Its op keeps the next page between calls, so
// before each open-loop operation had an op of its own, every goroutine
// shared one and `go test -race` reported it; every page must also be the
// expected one (a page URL taken over by another operation is not).
func TestOpenLoopFactorList(t *testing.T) {
	var log strings.Builder
	rep, err := Run(context.Background(), Config{
		Workloads:      []string{FactorList},
		Duration:       time.Second,
		Concurrency:    4,
		Rate:           300,
		MaxRequests:    1000,
		Factors:        10,
		PreloadFactors: 300, // 3 entities of 100: each list has next pages
		Timeout:        2 * time.Minute,
		Log:            &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%d results, want 1", len(rep.Results))
	}
	if r := rep.Results[0]; r.Requests < 285 || r.Requests > 301 || r.Errors != 0 { // 1s/300 rounds down to the ns
		t.Errorf("%s: %d requests, %d errors %v; want 300 at 300/s for 1 s", r.Workload, r.Requests, r.Errors, r.ErrorSamples)
	}
}

// TestOpenLoopOpPerSlot drives the open loop with ops that keep state in
// plain fields, over real HTTP to a slow loopback server so that many
// operations overlap: no op may run in two operations at once (checked
// with a flag, so that it fails without the race detector too), and
// newOp is asked for conc ops, numbered as the closed loop numbers them.
func TestOpenLoopOpPerSlot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		fmt.Fprintf(w, `{"next_page_url":"/page?n=%s"}`, r.URL.Query().Get("n")+"1")
	}))
	defer srv.Close()
	const conc = 4
	tr := newTransport(conc)
	defer tr.CloseIdleConnections()
	c := &client{hc: &http.Client{Transport: tr}, base: srv.URL}

	var (
		mu      sync.Mutex
		workers []int
		overlap atomic.Int64
	)
	newOp := func(w int) op {
		mu.Lock()
		workers = append(workers, w)
		mu.Unlock()
		var busy atomic.Bool
		next, calls := "/page?n=", 0 // plain state, as factor-list keeps
		return func(ctx context.Context) error {
			if !busy.CompareAndSwap(false, true) {
				overlap.Add(1)
				return errors.New("op already in use by another operation")
			}
			defer busy.Store(false)
			calls++
			r, err := c.expect(ctx, 200, "GET", next, "", "")
			if err != nil {
				return err
			}
			var ok bool
			if next, ok = jsonString(r.body, "next_page_url"); !ok || len(next) > 200 {
				next = "/page?n="
			}
			return nil
		}
	}
	var acc window
	// 400/s for 1 s at 5 ms each: about two in flight on average, more in
	// bursts, so that a shared op would be caught at once.
	acc.driveOpen(context.Background(), 400, conc, time.Second, 1000, newOp, nil)
	r := acc.result()
	if n := overlap.Load(); n > 0 {
		t.Errorf("%d operations found their op in use by another", n)
	}
	if r.Requests < 380 || r.Errors != 0 {
		t.Errorf("%d operations, %d errors %v; want 400", r.Requests, r.Errors, r.ErrorSamples)
	}
	if len(workers) != conc {
		t.Errorf("newOp called for workers %v, want 0..%d", workers, conc-1)
	}
	for i, w := range workers {
		if w != i {
			t.Errorf("newOp called for workers %v, want 0..%d in order", workers, conc-1)
			break
		}
	}
}

// countingListener counts the connections a server has open at once and
// keeps the most it had.
type countingListener struct {
	net.Listener
	open, peak atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := l.open.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// TestOpenLoopConnectionCap drives a server slower than the rate over
// --concurrency connections: the open loop must never have more than
// that many connections open (the server counts them as it accepts
// them), every operation that fell due must be answered, and those that
// waited for a connection must report the wait. The push-notify open loop
// (openLoop), which queues in the transport rather than for an op, and
// the closed loop must keep to the cap as well, the closed loop without
// errors.
func TestOpenLoopConnectionCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: ln}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	srv.Listener.Close()
	srv.Listener = counted
	srv.Start()
	defer srv.Close()
	const conc = 3
	tr := newTransport(conc)
	defer tr.CloseIdleConnections()
	c := &client{hc: &http.Client{Transport: tr}, base: srv.URL}
	get := func(ctx context.Context) error {
		_, err := c.expectStatus(ctx, 200, "ok", "GET", "/", "", "")
		return err
	}
	newOp := func(int) op { return get }
	ctx := context.Background()

	// 250 due in 500 ms, served at 3 per 20 ms (150/s): the last waits
	// about a second for a connection.
	var acc window
	acc.driveOpen(ctx, 500, conc, 500*time.Millisecond, 1000, newOp, nil)
	r := acc.result()
	if r.Requests != 250 || r.Errors != 0 {
		t.Errorf("driveOpen: %d operations, %d errors %v; want 250", r.Requests, r.Errors, r.ErrorSamples)
	}
	if r.Max < 800 {
		t.Errorf("driveOpen: max latency %v ms: the wait for a connection is not counted", r.Max)
	}
	if p := counted.peak.Load(); p > conc {
		t.Errorf("driveOpen: %d connections open at once, want at most %d", p, conc)
	}

	// Each phase has its own peak. openLoop (push-notify's, outbox-drain's)
	// has no op slots: only the transport holds its 90 operations (91:
	// 1s/300 rounds down to the ns) to conc connections.
	counted.peak.Store(counted.open.Load())
	n, errs := openLoop(ctx, 300, 300*time.Millisecond, get)
	if n < 90 || n > 91 || len(errs) != 0 {
		t.Errorf("openLoop: %d started, errors %v", n, errs)
	}
	if p := counted.peak.Load(); p > conc {
		t.Errorf("openLoop: %d connections open at once, want at most %d", p, conc)
	}

	counted.peak.Store(counted.open.Load())
	var closed window
	closed.drive(ctx, conc, 300*time.Millisecond, 1000, newOp, nil)
	r = closed.result()
	// 3 workers for 300 ms at 20 ms each: about 45, fewer on a busy
	// machine; what counts here is the peak below.
	if r.Requests == 0 || r.Errors != 0 {
		t.Errorf("closed loop: %d operations, %d errors %v", r.Requests, r.Errors, r.ErrorSamples)
	}
	if p := counted.peak.Load(); p > conc {
		t.Errorf("closed loop: %d connections open at once, want at most %d", p, conc)
	}
}
