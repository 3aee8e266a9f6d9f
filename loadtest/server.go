package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
	"github.com/verifyd/verify/cache"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/code"
	"github.com/verifyd/verify/notify/gateway"
	"github.com/verifyd/verify/notify/push"
	"github.com/verifyd/verify/notify/webhook"
	"github.com/verifyd/verify/sqlstore"
)

// localServer is verifyd built from its packages, exactly as serve wires
// them (sqlstore, Verifier, api.Server, net/http with serve's timeouts), on
// a loopback port of this process. Going through the real stack is the
// point: a mock would measure the mock.
type localServer struct {
	url            string
	db             *sqlstore.DB
	account, token string
	srv            *http.Server
	tmpDir         string // removed on close, if the tool made the database
	dsn            string

	// The outbox worker runs as serve runs it, with the push sender
	// pointed at the fake APNs when the run has delivery workloads
	// (fakes is nil otherwise).
	worker     *notify.Worker
	fakes      *fakes
	stopWorker func()
}

// startLocal opens the store at cfg.DB (a new temporary SQLite file if
// empty), creates an account for the tool, and serves the API.
func startLocal(ctx context.Context, cfg *Config) (*localServer, error) {
	s := &localServer{dsn: cfg.DB}
	if s.dsn == "" {
		dir, err := os.MkdirTemp("", "verifyd-bench-")
		if err != nil {
			return nil, err
		}
		s.tmpDir = dir
		s.dsn = filepath.Join(dir, "verifyd.db")
	}
	secretKey, tokenKey := cfg.SecretKey, cfg.TokenKey
	for _, k := range []*[]byte{&secretKey, &tokenKey} {
		if *k == nil {
			*k = make([]byte, 32)
			if _, err := rand.Read(*k); err != nil {
				return nil, err
			}
		}
	}
	db, err := sqlstore.Open(ctx, s.dsn, secretKey)
	if err != nil {
		s.removeTmp()
		return nil, err
	}
	s.db = db
	if err := db.Claim(); err != nil {
		s.close()
		return nil, err
	}
	sid, err := verify.NewSid(rand.Reader, verify.PrefixAccount)
	if err != nil {
		s.close()
		return nil, err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		s.close()
		return nil, err
	}
	s.account, s.token = string(sid), hex.EncodeToString(tok)
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken(s.token), DateCreated: time.Now().UTC().Truncate(time.Second)}); err != nil {
		s.close()
		return nil, err
	}
	if _, err := db.SealToken(ctx, sid, verify.TokenPrimary, s.token); err != nil { // signs webhooks
		s.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.close()
		return nil, err
	}
	s.url = "http://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(cfg.log(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cached := cache.New(db, db.Shared(), time.Now)
	v := &verify.Verifier{Store: cached, Now: time.Now, Rand: rand.Reader, TokenKey: tokenKey}
	sender := &push.Sender{Store: cached, Now: time.Now}
	if cfg.deliveries() {
		s.fakes = startFakes()
		sender.APNsURL, sender.TLS = s.fakes.apns.URL, s.fakes.clientTLS
	}
	senders := map[verify.OutboxKind]notify.Sender{
		verify.OutboxWebhook: webhook.NewSender(v.SigningToken, time.Now, false),
		verify.OutboxPush:    sender,
	}
	if s.fakes != nil {
		// Codes go to the fake gateway as serve sends them to
		// VERIFYD_GATEWAY_URL, code included, so the tool can check them.
		gw, err := gateway.New(gateway.Config{URL: s.fakes.gateway.URL, Secret: s.fakes.gw.secret, IncludeCode: true, Now: time.Now})
		if err != nil {
			s.close()
			return nil, err
		}
		senders[verify.OutboxCode] = &code.Sender{Open: v.OpenCodeDelivery, Store: db, Now: time.Now,
			Channels: map[string]code.Transport{verify.ChannelSMS: code.Gateway{Client: gw}}, Logger: slog.New(slog.DiscardHandler)}
		v.CodeChannels = map[string]bool{verify.ChannelSMS: true}
	}
	s.worker = &notify.Worker{
		Store:   db,
		Senders: senders,
		Schedules: map[verify.OutboxKind][]time.Duration{verify.OutboxPush: notify.PushSchedule,
			verify.OutboxCode: notify.CodeSchedule},
		// Not logged: outbox-drain fails thousands of attempts on purpose,
		// and push-create-approve-hooked has pushes that find their
		// challenge approved already (dead, nothing sent). What matters is
		// measured at the fakes, and a row that is never settled shows as
		// an outbox that does not empty (awaitOutbox).
		Logger: slog.New(slog.DiscardHandler),
		Now:    time.Now,
		Poll:   500 * time.Millisecond,
	}
	v.Store = notify.Waking(cached, s.worker.Wake)
	s.startWorker()
	s.srv = (&api.Server{Verifier: v, BaseURL: s.url, Now: time.Now, Logger: logger}).HTTPServer()
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("loadtest: serve", "err", err)
		}
	}()
	return s, nil
}

// startWorker runs the outbox worker until stopWorker; the drain workload
// stops it for a while, as a node that is down would.
func (s *localServer) startWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.worker.Run(ctx)
	}()
	s.stopWorker = func() {
		cancel()
		<-done
		s.stopWorker = nil
	}
}

func (s *localServer) close() {
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
	}
	if s.stopWorker != nil {
		s.stopWorker()
	}
	if s.fakes != nil {
		s.fakes.close()
	}
	if s.db != nil {
		_ = s.db.Close()
	}
	s.removeTmp()
}

func (s *localServer) removeTmp() {
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
}

// rssReader returns a resident set size in MB, or false if unknown.
type rssReader func() (float64, bool)

// procRSS reads VmRSS of a process from /proc (Linux); pid 0 means this
// process.
func procRSS(pid int) rssReader {
	path := "/proc/self/status"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	return func() (float64, bool) {
		kb, ok := procStatusKB(path, "VmRSS")
		return float64(kb) / 1024, ok
	}
}

// procStatusKB returns a "Name:   123 kB" field of a /proc status file.
func procStatusKB(path, field string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAvg returns the 1-minute load average, to show in the report how busy
// the machine was: other work on the same cores makes the numbers noisy.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if err != nil {
		return -1
	}
	return f
}

// logf writes a progress line.
func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format+"\n", args...)
}
