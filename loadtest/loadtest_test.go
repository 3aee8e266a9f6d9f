package loadtest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunEveryWorkload runs each workload for a second against an
// in-process server on real loopback HTTP, with tiny sizes: every answer
// must be the expected one, and every workload must have done some work
// without running its pool dry.
func TestRunEveryWorkload(t *testing.T) {
	var log strings.Builder
	rep, err := Run(context.Background(), Config{
		Workloads:      DefaultWorkloads,
		Duration:       time.Second,
		Rounds:         2, // exercises the interleaving and the merge of slices
		Concurrency:    4,
		MaxRequests:    300,
		Factors:        150, // at least 3 fresh codes each: 450 > 300
		PushFactors:    3,
		PushChallenges: 300,
		PreloadFactors: 250,
		Timeout:        2 * time.Minute,
		Log:            &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if len(rep.Results) != len(DefaultWorkloads) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(DefaultWorkloads))
	}
	for _, r := range rep.Results {
		if r.Requests == 0 || r.Errors != 0 || r.DryAfterSeconds != 0 {
			t.Errorf("%s: %d requests, %d errors %v, dry after %vs", r.Workload, r.Requests, r.Errors, r.ErrorSamples, r.DryAfterSeconds)
		}
		if r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max {
			t.Errorf("%s: percentiles out of order: p50 %v p99 %v max %v", r.Workload, r.P50, r.P99, r.Max)
		}
		if (r.Workload == TotpFresh || r.Workload == PushApprove) && r.VsFloor <= 0 {
			t.Errorf("%s: no ratio to its floor", r.Workload)
		}
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "totp-fresh") {
		t.Fatalf("table: %v\n%s", err, table.String())
	}
}

// TestDeliveryWorkloads runs the delivery workloads briefly: the hooked
// ones must succeed and be compared with their plain twins, every
// push-notify challenge must reach the fake APNs, and each outbox-drain
// phase must deliver every event made during its outage exactly once
// (the receiver counts distinct uuids), with the 503s of the receiver's
// outage counted.
func TestDeliveryWorkloads(t *testing.T) {
	var log strings.Builder
	rep, err := Run(context.Background(), Config{
		Workloads:      append(slices.Clone(DeliveryWorkloads), OutboxDrain),
		Duration:       time.Second,
		Concurrency:    4,
		MaxRequests:    200,
		Factors:        200,
		PushChallenges: 200,
		NotifyRate:     50,
		Outage:         2 * time.Second,
		DrainRate:      20,
		Timeout:        3 * time.Minute,
		Log:            &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	got := map[string]Result{}
	for _, r := range rep.Results {
		got[r.Workload] = r
		if r.Requests == 0 || r.Errors != 0 || r.DryAfterSeconds != 0 {
			t.Errorf("%s: %d requests, %d errors %v, dry after %vs", r.Workload, r.Requests, r.Errors, r.ErrorSamples, r.DryAfterSeconds)
		}
	}
	for _, w := range []string{TotpFreshHooked, PushApproveHooked, PushCreateApproveHooked} {
		if got[w].VsFloor <= 0 || got[w].Floor != strings.TrimSuffix(w, "-hooked") {
			t.Errorf("%s: compared with %q, ratio %v", w, got[w].Floor, got[w].VsFloor)
		}
	}
	if n := got[PushNotify].Requests; n < 40 {
		t.Errorf("push-notify: %d notifications measured in 1 s at 50/s", n)
	}
	if len(rep.Drains) != 2 {
		t.Fatalf("%d drain phases, want 2\n%s", len(rep.Drains), log.String())
	}
	for _, d := range rep.Drains {
		if d.Events < 30 || d.Delivered != d.Events || d.Note != "" {
			t.Errorf("drain %+v", d)
		}
	}
	// Each event's first attempt meets the outage, unless the loop's last
	// ones were claimed after it ended; at 5 s a second one cannot.
	if d := rep.Drains[0]; d.Refused < int64(d.Events)/2 || d.Refused > int64(d.Events) || rep.Drains[1].Refused != 0 {
		t.Errorf("refused attempts: %d with the receiver down (%d events), %d with the worker down",
			rep.Drains[0].Refused, rep.Drains[0].Events, rep.Drains[1].Refused)
	}
}

// TestClassicWorkloads runs the classic Verify workloads briefly: every
// create answers 201 pending and its code reaches the fake gateway with a
// valid signature (awaitOutbox fails the run otherwise), every check of a
// code read there answers 200 approved, and both are compared with the
// floor.
func TestClassicWorkloads(t *testing.T) {
	var log strings.Builder
	rep, err := Run(context.Background(), Config{
		Workloads:     ClassicWorkloads,
		Duration:      time.Second,
		Rounds:        2,
		Concurrency:   4,
		MaxRequests:   200,
		Verifications: 200,
		Timeout:       2 * time.Minute,
		Log:           &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if len(rep.Results) != len(ClassicWorkloads) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(ClassicWorkloads))
	}
	for _, r := range rep.Results {
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors %v", r.Workload, r.Requests, r.Errors, r.ErrorSamples)
		}
		want := FloorTotp
		if r.Workload == VerifyCreateLimited {
			want = VerifyCreate
		}
		if r.Workload != FloorTotp && (r.Floor != want || r.VsFloor <= 0) {
			t.Errorf("%s: compared with %q, ratio %v", r.Workload, r.Floor, r.VsFloor)
		}
	}
	if !strings.Contains(log.String(), "sent 200 verifications through the gateway") {
		t.Errorf("verify-check's setup did not go through the gateway:\n%s", log.String())
	}
}

// TestCodePoolNeverRepeats takes codes from many goroutines while the
// clock moves across step boundaries: no (factor, step) pair may be handed
// out twice, a factor's steps must increase, every step must lie in the
// window at the time it was handed out, and no factor may be in two
// requests at once.
func TestCodePoolNeverRepeats(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2030, 1, 1, 0, 0, 50, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	factors := make([]*totpFactor, 20)
	for i := range factors {
		factors[i] = &totpFactor{sid: fmt.Sprint("f", i)}
	}
	p := newCodePool(now, 60, 2, factors)
	var (
		mu       sync.Mutex
		seen     = map[string]bool{}
		last     = map[string]int64{}
		inFlight = map[string]bool{}
		handed   int
	)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				at := now()
				f, step, ok := p.take()
				after := now() // other goroutines move the clock meanwhile
				if !ok {
					clock.Add(int64(7 * time.Second)) // dry: let time pass
					continue
				}
				cur, curAfter := at.Unix()/60, after.Unix()/60
				mu.Lock()
				key := fmt.Sprint(f.sid, "/", step)
				if seen[key] {
					t.Errorf("%s handed out twice", key)
				}
				if l, ok := last[f.sid]; ok && step <= l {
					t.Errorf("%s: step %d after %d", f.sid, step, l)
				}
				// take read the clock somewhere between at and after.
				if step < cur-2 || step > curAfter+2 {
					t.Errorf("%s: step %d outside the windows around %d..%d", f.sid, step, cur, curAfter)
				}
				if inFlight[f.sid] {
					t.Errorf("%s in two requests at once", f.sid)
				}
				seen[key], last[f.sid], inFlight[f.sid] = true, step, true
				handed++
				mu.Unlock()
				runtime.Gosched() // the request would be in flight here
				mu.Lock()
				inFlight[f.sid] = false
				mu.Unlock()
				p.put(f)
			}
		})
	}
	wg.Wait()
	if handed < 100 {
		t.Fatalf("only %d codes handed out", handed)
	}
}

// TestCodePoolDriesAndRefills checks that an exhausted pool says so instead
// of repeating itself, and yields one more step per factor when time moves
// on by one step.
func TestCodePoolDriesAndRefills(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 10, 0, time.UTC) // far from a step's end
	p := newCodePool(func() time.Time { return at }, 60, 2, []*totpFactor{{sid: "a"}, {sid: "b"}})
	n := 0
	for {
		f, _, ok := p.take()
		if !ok {
			break
		}
		p.put(f)
		n++
	}
	if n != 10 { // 2 factors x 5 steps
		t.Fatalf("%d codes before dry, want 10", n)
	}
	at = at.Add(time.Minute)
	for i := range 2 {
		f, step, ok := p.take()
		if !ok || step != at.Unix()/60+2 {
			t.Fatalf("take %d after a step: %v %d", i, ok, step)
		}
		p.put(f)
	}
	if _, _, ok := p.take(); ok {
		t.Fatal("pool did not run dry again")
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:4010", "http://[::1]:80/", "https://localhost:4010", "http://127.1.2.3"} {
		if err := CheckLoopback(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://example.com", "http://10.0.0.1:4010", "ftp://127.0.0.1", "127.0.0.1:4010", "http://0.0.0.0:4010"} {
		if err := CheckLoopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	_, err := Run(context.Background(), Config{Target: "http://192.0.2.1:4010", Account: "AC", Token: "x",
		Duration: time.Second, Concurrency: 1, MaxRequests: 1, Factors: 1, PushFactors: 1})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Run with a remote target: %v", err)
	}
}

func TestJSONString(t *testing.T) {
	body := []byte(`{"sid":"YC1","account_sid":"AC1","status": "approved","next_page_url":null,"m":"a\"b","u":"x?a=1&b=2"}`)
	for key, want := range map[string]string{"sid": "YC1", "status": "approved", "m": `a"b`, "u": "x?a=1&b=2"} {
		if got, ok := jsonString(body, key); !ok || got != want {
			t.Errorf("%s = %q %v, want %q", key, got, ok, want)
		}
	}
	if got, ok := jsonString(body, "next_page_url"); ok || got != "" {
		t.Errorf("null read as %q", got)
	}
}

// TestCountFactorsAndMeta reads a page shaped as verifyd writes one: each
// factor counted once whatever objects it holds, and next_page_url taken
// from the page's meta, not from an item's metadata.
func TestCountFactorsAndMeta(t *testing.T) {
	factor := func(sid, meta string) string {
		return `{"sid":"` + sid + `","entity_sid":"YE1","config":{"alg":"sha1","code_length":6},` +
			`"metadata":` + meta + `,"links":{"challenges":"https://x/Factors/` + sid + `/Challenges"}}`
	}
	page := `{"factors":[` + factor("YF1", `null`) + `,` + factor("YF2", `{"next_page_url":"decoy","meta":{}}`) +
		`,` + factor("YF3", `{"sid":"x"}`) + `],"meta":{"page":0,"page_size":3,` +
		`"next_page_url":"https://x/Factors?PageSize=3&Page=1&PageToken=PTYF3","key":"factors"}}`
	if n := countFactors([]byte(page)); n != 3 {
		t.Errorf("countFactors = %d, want 3", n)
	}
	if n := countFactors([]byte(`{"factors":[],"meta":{}}`)); n != 0 {
		t.Errorf("countFactors of an empty page = %d", n)
	}
	if got, _ := jsonString(pageMeta([]byte(page)), "next_page_url"); got != "https://x/Factors?PageSize=3&Page=1&PageToken=PTYF3" {
		t.Errorf("next_page_url = %q", got)
	}
}

// TestOpenLoop: with Rate set, a workload runs at that rate whatever the
// server does (not as fast as it answers), its latencies are measured from
// when each operation fell due, and no ratio to a floor is claimed.
func TestOpenLoop(t *testing.T) {
	var log strings.Builder
	rep, err := Run(context.Background(), Config{
		Workloads:   []string{FloorTotp, TotpFresh},
		Duration:    2 * time.Second,
		Rounds:      1,
		Concurrency: 32, // room for a slow server (-race, a busy CI machine)
		Rate:        100,
		MaxRequests: 1000,
		Factors:     300,
		Timeout:     2 * time.Minute,
		Log:         &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if len(rep.Results) != 2 || rep.Rate != 100 {
		t.Fatalf("%d results, rate %d", len(rep.Results), rep.Rate)
	}
	for _, r := range rep.Results {
		// 100/s for 2 s: 200 due; a closed loop of 32 would make thousands.
		if r.Requests < 190 || r.Requests > 200 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors %v; want 200 at 100/s for 2 s", r.Workload, r.Requests, r.Errors, r.ErrorSamples)
		}
		if r.VsFloor != 0 {
			t.Errorf("%s: vs floor %v in an open loop", r.Workload, r.VsFloor)
		}
		// The rate over the window's wall time, which lasts until the last
		// operation is answered: the floor answers at once. A durable
		// write on a busy CI machine under -race can take seconds, so the
		// rate of totp-fresh is not the schedule's; its count above is.
		if r.Workload == FloorTotp && (r.RPS < 90 || r.RPS > 101) {
			t.Errorf("%s: %v req/s, want 100", r.Workload, r.RPS)
		}
		if r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max {
			t.Errorf("%s: percentiles out of order: p50 %v p99 %v max %v", r.Workload, r.P50, r.P99, r.Max)
		}
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "open loop at 100 operations/s") {
		t.Errorf("table does not say open loop: %v\n%s", err, table.String())
	}
}

// TestOpenLoopPushPool: an open loop sizes the push-approve pool from its
// rate, not from the closed loop's guess, and the pool lasts the window:
// every operation that fell due was answered approved, none found the pool
// dry.
func TestOpenLoopPushPool(t *testing.T) {
	closed := Config{Duration: 6 * time.Second, Concurrency: 16, MaxRequests: 1000000}
	open := closed
	open.Rate = 2150
	if got, want := closed.pushPool(), 6*pushRateGuess+16; got != want {
		t.Errorf("closed loop: pool %d, want %d", got, want)
	}
	if got, want := open.pushPool(), 6*2150+16; got != want {
		t.Errorf("open loop at 2,150/s: pool %d, want %d", got, want)
	}
	open.MaxRequests = 500
	if got := open.pushPool(); got != 500 {
		t.Errorf("pool %d over --max-requests 500", got)
	}

	var log strings.Builder
	rep, err := Run(context.Background(), Config{
		Workloads:   []string{PushApprove},
		Duration:    time.Second,
		Rounds:      2,
		Concurrency: 16,
		Rate:        100,
		MaxRequests: 1000,
		Factors:     10,
		Timeout:     2 * time.Minute,
		Log:         &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if rep.PushChallenges != 116 {
		t.Errorf("pool of %d challenges, want 100/s for 1 s plus 16", rep.PushChallenges)
	}
	r := rep.Results[0]
	if r.Requests < 95 || r.Requests > 100 || r.Errors != 0 || r.DryAfterSeconds != 0 {
		t.Errorf("%d requests, %d errors %v, dry after %vs; want 100 approved", r.Requests, r.Errors, r.ErrorSamples, r.DryAfterSeconds)
	}
}

// TestOpenLoopCountsLateness: an operation that cannot start on time (here
// every one waits for the one before, as on one busy connection) reports
// the time from when it fell due, so a slow server is not hidden by the
// generator slowing down with it.
func TestOpenLoopCountsLateness(t *testing.T) {
	var acc window
	var mu sync.Mutex
	slow := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		return nil
	}
	// 100/s for 500 ms: 50 due, served one at a time at 50/s: the last
	// waits about 500 ms more than it would alone.
	acc.driveOpen(context.Background(), 100, 4, 500*time.Millisecond, 1000, func(int) op { return slow }, nil)
	r := acc.result()
	if r.Requests != 50 {
		t.Fatalf("%d operations, want 50", r.Requests)
	}
	if r.Max < 400 {
		t.Errorf("max latency %v ms: the wait behind earlier operations is not counted", r.Max)
	}
}
