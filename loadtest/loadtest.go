// Package loadtest measures verifyd the way the targets are stated:
// closed-loop load from C workers over keep-alive loopback connections, one
// workload at a time for a fixed duration, with every request's answer
// checked and every latency kept. It provisions what it needs (a service,
// TOTP factors with secrets it knows, push factors with keys it holds)
// through the API, outside the timed windows, and it serves "floor"
// handlers that do only a workload's irreducible work (parse the form,
// check one TOTP code or ES256 signature, no storage) on another loopback
// port of the same process, driven by the same client: the ratio of a
// workload to its floor, measured in the same run, is what the report is
// about, since absolute numbers depend on the machine.
//
// `verifyd bench` is its command-line front end.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Workload names.
const (
	FloorTotp         = "floor-totp"
	TotpFresh         = "totp-fresh"
	TotpWrong         = "totp-wrong"
	FloorES256        = "floor-es256"
	PushApprove       = "push-approve"
	PushCreateApprove = "push-create-approve"
	FactorList        = "factor-list"
)

// DefaultWorkloads runs each floor just before the workloads compared with
// it, so that a pair sees the same machine state.
var DefaultWorkloads = []string{FloorTotp, TotpFresh, TotpWrong, FloorES256, PushApprove, PushCreateApprove, FactorList}

// Config is one run of the tool.
type Config struct {
	// Target is the base URL of a verifyd already running on this machine
	// (loopback only), with Account and Token its credentials. Empty runs
	// verifyd inside this process instead.
	Target         string
	Account, Token string
	// ServerPID, with Target, is the server's process, whose RSS is then
	// reported; in-process runs report this process's RSS, client included.
	ServerPID int

	// PeerURL is the base URL of a peer's TOTP engine on this machine
	// (OpenBao's or Vault's, mounted at totp/), which the peer-totp
	// workload drives with PeerToken; PeerKeys is how many keys it creates
	// there (0: sized from Duration). See peer.go.
	// PeerPID, if set, is the peer's process, whose CPU per check is then
	// reported.
	PeerURL, PeerToken string
	PeerKeys, PeerPID  int

	// DB is the in-process server's database: a SQLite path or a
	// postgres:// DSN, passed to sqlstore.Open as is. Empty makes a
	// temporary SQLite file, removed at the end.
	DB string
	// SecretKey and TokenKey are the in-process server's keys (32 bytes
	// each); nil draws random ones.
	SecretKey, TokenKey []byte
	// PreloadFactors inserts this many extra TOTP factors straight through
	// the store (100 per entity, in batched transactions) before the
	// workloads, so that the database is as big as the targets assume.
	PreloadFactors int

	Workloads []string
	Duration  time.Duration // timed window of each workload
	// Rounds splits each Duration into this many slices, run in turn with
	// the other workloads' slices (see runAll); 0 or 1 runs each workload
	// in one piece. A CPU profile needs one piece: CPUProfile forces 1.
	Rounds      int
	Concurrency int // closed-loop workers = connections
	// Rate, if positive, drives each workload open loop at this many
	// operations a second (driveOpen) over at most Concurrency
	// connections (the transport's MaxConnsPerHost), instead of by
	// Concurrency closed-loop workers; operations that fall due while all
	// are busy wait, and their wait counts in their latency.
	Rate int
	// MaxRequests bounds the operations of each workload.
	MaxRequests int64
	// Factors is the number of TOTP factors to provision; 0 sizes it from
	// Duration. Each yields at most 2*skew+1 = 5 fresh codes at once (3 or
	// 4 once one verified it), plus one per 60 s step.
	Factors int
	// PushFactors is the number of push factors (one device each). verifyd
	// allows each factor 50 challenges an hour (60312), so it is raised to
	// what the push workloads' challenges need; 0 means just that.
	PushFactors int
	// PushChallenges is the number of challenges pre-created and pre-signed
	// for push-approve; 0 sizes it from Duration.
	PushChallenges int
	// Verifications is the pool of each classic workload: the numbers
	// verify-create sends to, the verifications verify-check checks;
	// 0 sizes it from Duration (classic.go).
	Verifications int
	// RateValues is how many values verify-create-limited gives its rate
	// limit, in turn, as a bounded set of users or IP addresses would; 0
	// gives each create's To, a new value each (the worst case: every
	// create inserts counters).
	RateValues int
	// NotifyRate is push-notify's rate of challenge creates per second
	// (0: 500, the rate of the latency target).
	NotifyRate int
	// Outage is how long each of outbox-drain's outages lasts (0: 60 s),
	// and DrainRate how many events a second it makes meanwhile (0: 100).
	Outage    time.Duration
	DrainRate int
	// hookedPushFactors is the devices the hooked service enrolls.
	hookedPushFactors int
	// CPUProfile, if set, writes a CPU profile of each timed window to
	// CPUProfile with the workload's name inserted before the extension.
	CPUProfile string
	// Trace, if set, writes an execution trace of each timed window to
	// Trace with the workload's name inserted before the extension.
	Trace string
	// Timeout bounds the whole run, setup included.
	Timeout time.Duration
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

func (c *Config) log() io.Writer {
	if c.Log == nil {
		return io.Discard
	}
	return c.Log
}

// pushRateGuess sizes the push-approve pool when PushChallenges is 0:
// above what a 2-core machine approved per second when this was written
// (about 4,500/s), so the pool lasts the window without making setup much
// longer than the run. A faster server runs it dry, which the report says.
const pushRateGuess = 6000

// pushPool is the push-approve pool when PushChallenges is 0. A closed
// loop's rate is not known before the run, so it gets pushRateGuess a
// second; an open loop makes exactly Rate a second, so it gets that. Each
// answer is about 1.5 KB of heap until the run ends, and in-process that heap
// is the server's: a pool sized for 6,000/s in an open loop at 2,150/s
// held 62 MB live against 26 MB, its collections marked for 13–26 ms
// instead of 6–13, and those marks were where most of the slowest
// 1 % of answers fell (BENCHMARKS.md).
func (c *Config) pushPool() int {
	perSecond := float64(pushRateGuess)
	if c.Rate > 0 {
		perSecond = float64(c.Rate)
	}
	return int(min(c.MaxRequests, int64(c.Duration.Seconds()*perSecond)+int64(c.Concurrency), maxPushPool))
}

// maxPushPool caps that sizing: the pool's device JWTs are signed in setup
// and live 600 s, so setup plus window must stay well under that.
const maxPushPool = 60000

// maxDuration bounds the timed windows of a run so that device JWTs signed
// in setup are still valid at the end (600 s lifetime, 60 s server leeway).
const maxDuration = 8 * time.Minute

// factorsPerSecond sizes Factors when it is 0: about 4 fresh codes each,
// so 500 factors per second of window last at 2,000 approvals/s. A faster
// server runs the pool dry, which the report says; then raise Factors.
const factorsPerSecond = 500

func (c *Config) check() error {
	if c.Duration <= 0 || c.Concurrency <= 0 || c.MaxRequests <= 0 {
		return errors.New("loadtest: duration, concurrency and max requests must be positive")
	}
	if c.Rate < 0 {
		return errors.New("loadtest: the open-loop rate must not be negative")
	}
	if total := c.Duration * time.Duration(len(c.Workloads)); total > maxDuration {
		return fmt.Errorf("loadtest: %d workloads of %s are over %s: device JWTs signed in setup live 600 s, as the SDK mints them", len(c.Workloads), c.Duration, maxDuration)
	}
	if c.Rounds < 1 || c.CPUProfile != "" || c.Trace != "" {
		c.Rounds = 1
	}
	if c.Factors == 0 {
		c.Factors = max(2000, int(c.Duration.Seconds()*factorsPerSecond))
	}
	if c.Factors < 1 || c.PushFactors < 0 {
		return errors.New("loadtest: factors must be at least 1 and push factors not negative")
	}
	if c.Target != "" {
		if err := CheckLoopback(c.Target); err != nil {
			return err
		}
		if c.Account == "" || c.Token == "" {
			return errors.New("loadtest: a target needs the account SID and auth token")
		}
		if c.PreloadFactors > 0 {
			return errors.New("loadtest: preloading writes through the store, so it needs the in-process server (no target)")
		}
		if c.deliveries() {
			return errors.New("loadtest: the delivery workloads need the in-process server (no target): their fake APNs and receiver run in this process")
		}
	}
	if c.PeerURL != "" {
		if err := CheckLoopback(c.PeerURL); err != nil {
			return err
		}
	} else if slices.Contains(c.Workloads, PeerTotp) {
		return fmt.Errorf("loadtest: %s needs --peer-url (and --peer-token)", PeerTotp)
	}
	for _, w := range c.Workloads {
		if _, ok := workloads[w]; !ok {
			return fmt.Errorf("loadtest: unknown workload %q (known: %s)", w, strings.Join(DefaultWorkloads, ","))
		}
	}
	if c.NotifyRate <= 0 {
		c.NotifyRate = 500
	}
	if c.Outage <= 0 {
		c.Outage = time.Minute
	}
	if c.DrainRate <= 0 {
		c.DrainRate = 100
	}
	if c.PushChallenges == 0 {
		c.PushChallenges = c.pushPool()
	}
	c.PushFactors = max(c.PushFactors, c.pushFactorsNeeded(false))
	c.hookedPushFactors = max(c.PushFactors, c.pushFactorsNeeded(true))
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Minute
	}
	return nil
}

// pushCreateRateGuess bounds how many operations push-create-approve makes
// per second of window, for sizing the devices: above the 1,700/s a 2-core
// machine reached when this was written.
const pushCreateRateGuess = 2500

// pushFactorsNeeded is how many devices the push workloads of the plain
// or of the hooked service need so that no factor is asked for more
// challenges than its hourly quota allows: a run is much shorter than an
// hour, so the hour is what binds.
func (c *Config) pushFactorsNeeded(hooked bool) int {
	need := 0
	for _, w := range c.Workloads {
		if workloads[w].hooked != hooked {
			continue
		}
		switch w {
		case PushApprove, PushApproveHooked:
			need += c.PushChallenges
		case PushCreateApprove, PushCreateApproveHooked:
			need += int(min(c.MaxRequests, int64(c.Duration.Seconds()*pushCreateRateGuess)+int64(c.Concurrency)))
		case PushNotify:
			need += int(c.Duration.Seconds()*float64(c.NotifyRate)) + c.NotifyRate
		}
	}
	return max(1, (need+challengesPerDevice-1)/challengesPerDevice)
}

// workload is how to set one workload up, outside the timed window, and
// what it is compared with.
type workload struct {
	floor string
	note  string
	// setup prepares the workload and returns each worker's operation.
	setup func(b *bench, ctx context.Context) (func(worker int) op, error)
	// drive, if set, runs a slice in place of the closed loop (open-loop
	// and outage workloads), on the bench setup ran on.
	drive func(b *bench, ctx context.Context, acc *window, slice time.Duration) error
	// hooked workloads run in the hooked service (deliveries.go); once
	// ones run in the first round only; gateway ones send codes to the
	// fake SMS gateway (classic.go).
	hooked, once, gateway bool
}

var workloads = map[string]workload{
	FloorTotp:         {note: "parse form + otp.Validate (3 windows), no storage", setup: (*bench).floorTotp},
	TotpFresh:         {floor: FloorTotp, note: "201 approved, each (factor, step) once", setup: (*bench).totpFresh},
	TotpWrong:         {floor: FloorTotp, note: "201 pending, one failed attempt stored", setup: (*bench).totpWrong},
	FloorES256:        {note: "parse + 2 ES256 verifications, no storage", setup: (*bench).floorES256},
	PushApprove:       {floor: FloorES256, note: "device POST: JWT + AuthPayload verify + CAS", setup: (*bench).pushApprove},
	PushCreateApprove: {note: "create + client signing + approve (2 requests/op)", setup: (*bench).pushCreateApprove},
	FactorList:        {note: "GET Factors PageSize=50, following next_page_url", setup: (*bench).factorList},
}

// bench is the state of one run shared by its workloads.
type bench struct {
	cfg     *Config
	c       *client
	account string
	local   *localServer
	service string
	floors  *floors
	totp    []*totpFactor
	pool    *codePool
	listIDs []string // identities with many factors, for factor-list
	// nextNumber is the last To number handed out (classic.go).
	nextNumber atomic.Int64
	devices    []*device
	// pushFactors is how many devices ensurePush enrolls, on platform apn
	// with a notification token if apn (the hooked service's), else none.
	pushFactors int
	apn         bool
	// hooked is the run's second service, with deliveries (deliveries.go).
	hooked *bench
	// nextDevice is where takeDevice looks next.
	nextDevice atomic.Int64
	report     *Report
	// dbCPU samples a local PostgreSQL server's CPU, serverCPU the
	// --server-pid process's and peerCPU the --peer-pid one's; each nil
	// when there is none.
	dbCPU, serverCPU, peerCPU cpuSampler
	// peer is the peer's client and keys, once peer-totp set it up.
	peer *peer
}

// Run provisions, runs every workload of cfg in order, and returns the
// report. On an error the report holds the workloads finished so far.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	b := &bench{cfg: &cfg, report: newReport(&cfg), pushFactors: cfg.PushFactors}
	defer b.report.ratios() // also for the partial report of a failed run
	tr := newTransport(cfg.Concurrency)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var rss rssReader
	base, account, token := strings.TrimSuffix(cfg.Target, "/"), cfg.Account, cfg.Token
	if cfg.Target == "" {
		b.dbCPU = newDBCPU(cfg.DB)
		s, err := startLocal(ctx, &cfg)
		if err != nil {
			return nil, err
		}
		defer s.close()
		b.local, base, account, token = s, s.url, s.account, s.token
		rss = procRSS(0)
		b.report.Server = "in-process (client and server share the process and its RSS)"
		b.report.Database = databaseKind(s.dsn) + vacuumNote(ctx, s.dsn)
	} else {
		b.report.Server = "target " + base
		if cfg.ServerPID > 0 {
			rss, b.serverCPU = procRSS(cfg.ServerPID), procCPU(cfg.ServerPID)
			b.report.Server += fmt.Sprintf(" (pid %d)", cfg.ServerPID)
		}
	}
	b.c, b.account = &client{hc: hc, base: base, auth: basic(account, token)}, account
	b.peerCPU = procCPU(cfg.PeerPID)
	defer func() {
		if b.floors != nil {
			b.floors.close()
		}
	}()
	logf(cfg.log(), "verifyd bench: %s, %d workers, %s per workload, GOMAXPROCS=%d",
		b.report.Server, cfg.Concurrency, cfg.Duration, runtime.GOMAXPROCS(0))
	if err := b.createService(ctx, nil); err != nil {
		return b.report, err
	}
	if cfg.PreloadFactors > 0 {
		if err := b.preload(ctx, cfg.PreloadFactors); err != nil {
			return b.report, err
		}
	}
	return b.report, b.runAll(ctx, rss)
}

// state is one workload of a run: set up once, driven once per round.
type state struct {
	name  string
	w     workload
	on    *bench // the plain bench, or the hooked one
	newOp func(worker int) op
	setup time.Duration
	load  float64 // highest 1-minute load average seen at the start of a slice
	// backlog is the longest wait, after a slice, for the outbox to have
	// no pending row.
	backlog time.Duration
	acc     window
	done    bool // its pool ran dry, or it reached MaxRequests
}

// runAll drives the workloads in Rounds rounds, each workload for
// Duration/Rounds per round, and reports them. Interleaving a workload with
// its floor this way exposes both to the same drift of a shared machine
// (other builds, writeback of earlier workloads' fsyncs), which would
// otherwise show up in the ratio. A workload is set up just before its
// first slice, outside the timed windows.
func (b *bench) runAll(ctx context.Context, rss rssReader) error {
	cfg := b.cfg
	states := make([]*state, len(cfg.Workloads))
	defer func() { // report what was measured, also after an error
		for _, st := range states {
			if st != nil && len(st.acc.lats) > 0 {
				b.report.Results = append(b.report.Results, st.result())
			}
		}
	}()
	slice := cfg.Duration / time.Duration(cfg.Rounds)
	for round := range cfg.Rounds {
		for i, name := range cfg.Workloads {
			st := states[i]
			if st == nil {
				st = &state{name: name, w: workloads[name], on: b}
				t0 := time.Now()
				var err error
				if st.newOp, err = st.w.setup(b, ctx); err != nil {
					return fmt.Errorf("%s: setup: %w", name, err)
				}
				st.setup = time.Since(t0)
				if st.w.hooked {
					st.on = b.hooked
				}
				states[i] = st
			}
			if st.done {
				continue
			}
			if err := b.runSlice(ctx, st, slice, round, rss); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// runSlice drives one workload for one slice of its duration.
func (b *bench) runSlice(ctx context.Context, st *state, slice time.Duration, round int, rss rssReader) error {
	switch {
	case st.name == PeerTotp:
		rss = nil // the peer's, if its process is known
		if b.cfg.PeerPID > 0 {
			rss = procRSS(b.cfg.PeerPID)
		}
	case strings.HasPrefix(st.name, "floor-") && b.local == nil:
		rss = nil // the floors run in this process, not in the target's
	}
	stopProfile, err := profileWindow(profilePath(b.cfg.CPUProfile, st.name), profilePath(b.cfg.Trace, st.name))
	if err != nil {
		return err
	}
	load := loadAvg()
	st.load = max(st.load, load)
	n0, e0 := len(st.acc.lats), st.acc.errs
	var db, server cpuSampler
	switch {
	case st.name == PeerTotp:
		server = b.peerCPU
	case !strings.HasPrefix(st.name, "floor-"):
		db, server = b.dbCPU, b.serverCPU
	}
	dbAfter, serverAfter := measure(db, &st.acc.dbCPU), measure(server, &st.acc.serverCPU)
	switch {
	case st.w.drive != nil:
		err = st.w.drive(st.on, ctx, &st.acc, slice)
	case b.cfg.Rate > 0:
		st.acc.driveOpen(ctx, b.cfg.Rate, b.cfg.Concurrency, slice, b.cfg.MaxRequests-int64(n0), st.newOp, rss)
	default:
		st.acc.drive(ctx, b.cfg.Concurrency, slice, b.cfg.MaxRequests-int64(n0), st.newOp, rss)
	}
	if perr := stopProfile(); err == nil {
		err = perr
	}
	dbAfter()
	serverAfter()
	if err != nil {
		return err
	}
	n := len(st.acc.lats) - n0
	st.done = st.w.once || st.acc.dryAt > 0 || int64(len(st.acc.lats)) >= b.cfg.MaxRequests
	// What a hooked slice enqueued is delivered before the next slice
	// starts, so that no workload pays for another's deliveries; how long
	// that took says whether the worker kept up during the slice.
	if b.local != nil && b.local.fakes != nil {
		wait, err := b.awaitOutbox(ctx)
		if err != nil {
			return err
		}
		st.backlog = max(st.backlog, wait)
	}
	logf(b.cfg.log(), "%s round %d/%d: %d ops in %s, %d errors (load average %.2f)",
		st.name, round+1, b.cfg.Rounds, n, slice, st.acc.errs-e0, load)
	if st.acc.errs > e0 {
		for _, s := range st.acc.samples {
			logf(b.cfg.log(), "  error: %s", s)
		}
	}
	return ctx.Err()
}

// result is the workload's line of the report.
func (st *state) result() Result {
	r := st.acc.result()
	r.Workload, r.Floor, r.Note = st.name, st.w.floor, st.w.note
	r.SetupSeconds, r.LoadAvg = round(st.setup.Seconds(), 1), st.load
	if (st.w.hooked || st.w.gateway) && st.backlog > 0 {
		r.Note = fmt.Sprintf("%s; outbox empty %.0f ms after the window", r.Note, float64(st.backlog)/float64(time.Millisecond))
	}
	if r.DryAfterSeconds > 0 {
		r.Note = fmt.Sprintf("POOL RAN DRY after %.1fs of its window: raise --factors/--push-challenges/--verifications; %s", r.DryAfterSeconds, r.Note)
	}
	return r
}

// profilePath inserts the workload name before the extension of path.
func profilePath(path, workload string) string {
	if path == "" {
		return ""
	}
	if i := strings.LastIndexByte(path, '.'); i > strings.LastIndexByte(path, '/') {
		return path[:i] + "." + workload + path[i:]
	}
	return path + "." + workload
}

// Workloads parses a comma-separated workload list; "all" or "" gives
// DefaultWorkloads and "none" an empty list (provision or preload only).
func Workloads(list string) ([]string, error) {
	switch list {
	case "", "all":
		return slices.Clone(DefaultWorkloads), nil
	case "none":
		return nil, nil
	case "deliveries":
		return slices.Clone(DeliveryWorkloads), nil
	case "classic":
		return slices.Clone(ClassicWorkloads), nil
	}
	var out []string
	for w := range strings.SplitSeq(list, ",") {
		w = strings.TrimSpace(w)
		if _, ok := workloads[w]; !ok {
			return nil, fmt.Errorf("unknown workload %q (known: %s)", w, strings.Join(DefaultWorkloads, ","))
		}
		out = append(out, w)
	}
	return out, nil
}
