package loadtest

import (
	"context"
	"errors"
	"math"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// op is one timed operation of one worker: usually one HTTP request whose
// answer it checks. It returns an error for any answer but the expected one.
type op func(ctx context.Context) error

// errDry is returned by an op that has no fresh input left (no unused TOTP
// time step, no pre-created challenge). The workload then ends early: the
// tool reports that rather than send a replay, which would measure the
// server's refusal instead of the operation.
var errDry = errors.New("pool of fresh inputs ran dry")

// maxErrorSamples is how many distinct error messages a result keeps.
const maxErrorSamples = 5

// window accumulates what a workload's timed slices measured: a run with
// several rounds drives each workload once per round and merges them.
type window struct {
	lats    []time.Duration
	elapsed time.Duration
	errs    int64
	samples []string
	dryAt   time.Duration // time into the workload's windows when its pool ran dry; 0 if never
	rss     float64
	// dbCPU and serverCPU are what the database server and the server
	// under test spent in the windows (dbcpu.go).
	dbCPU, serverCPU cpuSpent
}

// drive runs one closed-loop slice: conc workers, each sending its next
// operation when the previous one has been answered, until dur has passed,
// limit operations have been started, or an op reports errDry. Every
// latency is kept (limit bounds the memory), so the percentiles are exact.
func (acc *window) drive(ctx context.Context, conc int, dur time.Duration, limit int64, newOp func(worker int) op, rss rssReader) {
	var (
		started atomic.Int64
		stop    atomic.Bool
		dryAt   atomic.Int64 // nanoseconds after start, 0 if never
		mu      sync.Mutex
	)
	sampler := startRSSSampler(rss)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for w := range conc {
		o := newOp(w)
		wg.Go(func() {
			local := make([]time.Duration, 0, 1024)
			var localErrs int64
			var localSamples []string
			for !stop.Load() && ctx.Err() == nil && time.Now().Before(deadline) {
				if started.Add(1) > limit {
					break
				}
				t0 := time.Now()
				err := o(ctx)
				d := time.Since(t0)
				if errors.Is(err, errDry) {
					dryAt.CompareAndSwap(0, int64(time.Since(start)))
					stop.Store(true)
					break
				}
				local = append(local, d)
				if err != nil {
					localErrs++
					if len(localSamples) < maxErrorSamples && !slices.Contains(localSamples, err.Error()) {
						localSamples = append(localSamples, err.Error())
					}
				}
			}
			mu.Lock()
			acc.lats = append(acc.lats, local...)
			acc.errs += localErrs
			for _, s := range localSamples {
				if len(acc.samples) < maxErrorSamples && !slices.Contains(acc.samples, s) {
					acc.samples = append(acc.samples, s)
				}
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if d := dryAt.Load(); d > 0 {
		acc.dryAt = acc.elapsed + time.Duration(d)
	}
	acc.elapsed += time.Since(start)
	acc.rss = max(acc.rss, sampler.stop())
}

// maxInFlight bounds the operations an open-loop slice keeps waiting on:
// past it, a server that has stopped answering would have the tool start a
// goroutine per due operation without end. Those over it count as errors.
const maxInFlight = 10000

// driveOpen runs one open-loop slice: an operation falls due every
// 1/rate seconds whatever the earlier ones are doing, each runs in its own
// goroutine, and its latency runs from when it fell due, not from when it
// was sent. A generator or client that falls behind (a busy machine, all
// connections taken) so adds to the latency it reports instead of hiding
// it, which a closed loop does (coordinated omission). The slice ends at
// dur, after limit operations or at errDry, once every started operation
// has been answered.
//
// As in drive, newOp(w) is called once per slot w in 0..conc-1, and an
// operation runs on a slot's op, which no other operation uses meanwhile:
// an op may keep state between its calls (factor-list its next page)
// without locking. conc is the number of connections the transport allows
// (newTransport), so a slot is what a connection is: an operation that
// falls due while all are busy waits for one, about in the order they fell
// due (a channel's receivers queue first come, first served), and that
// wait is part of its latency. Taking ops from a channel of slots filled
// at the start of the slice allocates nothing per operation.
func (acc *window) driveOpen(ctx context.Context, rate, conc int, dur time.Duration, limit int64, newOp func(worker int) op, rss rssReader) {
	var (
		mu    sync.Mutex
		dryAt atomic.Int64
	)
	slots := make(chan op, conc)
	for w := range conc {
		slots <- newOp(w)
	}
	sampler := startRSSSampler(rss)
	start := time.Now()
	schedule(ctx, rate, dur, limit, func(due time.Time) error {
		var err error
		select {
		case o := <-slots:
			err = o(ctx)
			slots <- o
		case <-ctx.Done():
			err = ctx.Err()
		}
		d := time.Since(due)
		if errors.Is(err, errDry) {
			dryAt.CompareAndSwap(0, int64(time.Since(start)))
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		acc.lats = append(acc.lats, d)
		if err != nil {
			acc.fail(err)
		}
		return err
	}, func(err error) {
		mu.Lock()
		acc.fail(err)
		mu.Unlock()
	})
	if d := dryAt.Load(); d > 0 {
		acc.dryAt = acc.elapsed + time.Duration(d)
	}
	acc.elapsed += time.Since(start)
	acc.rss = max(acc.rss, sampler.stop())
}

// schedule is the open loop's clock: it starts run(due) every 1/rate
// seconds for dur, at most limit times, each in a goroutine of its own,
// stops starting once a run has returned errDry, and waits for every run
// it started. Past maxInFlight unanswered runs, a due run is not started
// and over is told instead. It returns how many it started.
func schedule(ctx context.Context, rate int, dur time.Duration, limit int64, run func(due time.Time) error, over func(error)) int {
	var (
		wg     sync.WaitGroup
		stop   atomic.Bool
		flight atomic.Int64
	)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	started := 0
	for n := int64(0); n < limit && ctx.Err() == nil && !stop.Load(); n++ {
		due := start.Add(time.Duration(n) * interval)
		if due.Sub(start) >= dur {
			break
		}
		time.Sleep(time.Until(due))
		if stop.Load() {
			break
		}
		if flight.Add(1) > maxInFlight {
			flight.Add(-1)
			over(errors.New("client: over 10000 operations in flight; the server is not keeping up"))
			continue
		}
		started++
		wg.Go(func() {
			defer flight.Add(-1)
			if errors.Is(run(due), errDry) {
				stop.Store(true)
			}
		})
	}
	wg.Wait()
	return started
}

// fail counts an operation's error, keeping a few distinct messages.
func (acc *window) fail(err error) {
	acc.errs++
	if len(acc.samples) < maxErrorSamples && !slices.Contains(acc.samples, err.Error()) {
		acc.samples = append(acc.samples, err.Error())
	}
}

// result summarizes everything the window measured.
func (acc *window) result() Result {
	r := summarize(acc.lats, acc.elapsed)
	r.Errors, r.ErrorSamples, r.RSSMB = acc.errs, acc.samples, acc.rss
	r.DBCPUMicros = acc.dbCPU.perOp(r.Requests)
	r.ServerCPUMicros = acc.serverCPU.perOp(r.Requests)
	if acc.dryAt > 0 {
		r.DryAfterSeconds = round(acc.dryAt.Seconds(), 2)
	}
	return r
}

// summarize turns latencies into a Result: operations per second over the
// wall time the loop ran, and nearest-rank percentiles in milliseconds.
func summarize(lats []time.Duration, elapsed time.Duration) Result {
	r := Result{Requests: int64(len(lats)), Seconds: round(elapsed.Seconds(), 2)}
	if len(lats) == 0 || elapsed <= 0 {
		return r
	}
	slices.Sort(lats)
	r.RPS = round(float64(len(lats))/elapsed.Seconds(), 0)
	r.P50 = ms(percentile(lats, 0.50))
	r.P90 = ms(percentile(lats, 0.90))
	r.P99 = ms(percentile(lats, 0.99))
	r.Max = ms(lats[len(lats)-1])
	return r
}

// percentile returns the nearest-rank q-quantile of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// rssSampler polls the server's resident set every 100 ms while a workload
// runs and keeps the largest value: the end-of-run value alone would miss a
// peak the garbage collector has since returned.
type rssSampler struct {
	done chan struct{}
	max  chan float64
}

func startRSSSampler(rss rssReader) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), max: make(chan float64, 1)}
	go func() {
		peak := 0.0
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss != nil {
				if mb, ok := rss(); ok && mb > peak {
					peak = mb
				}
			}
			select {
			case <-s.done:
				s.max <- round(peak, 1)
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() float64 {
	close(s.done)
	return <-s.max
}

// profileWindow starts a CPU profile written to path and an execution
// trace written to tracePath (each if not empty) and returns the function
// that stops them, so that both cover one timed window only, never the
// setup before it. The trace shows what a profile cannot: which goroutine
// waited for a core, and for how long, when a request was late.
func profileWindow(path, tracePath string) (func() error, error) {
	var stops []func() error
	stop := func() error {
		var first error
		for _, f := range stops {
			if err := f(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stops = append(stops, func() error { pprof.StopCPUProfile(); return f.Close() })
	}
	if tracePath != "" {
		f, err := os.Create(tracePath)
		if err != nil {
			stop()
			return nil, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stop()
			return nil, err
		}
		stops = append(stops, func() error { trace.Stop(); return f.Close() })
	}
	return stop, nil
}
