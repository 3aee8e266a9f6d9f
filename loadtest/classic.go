package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifyd/verify/notify/gateway"
	"github.com/verifyd/verify/phone"
)

// The classic Verify workloads: a verification create by SMS, whose code
// the outbox then POSTs to a signed HTTP gateway (a fake on loopback that
// keeps the codes), and a check of the right code. Both are compared with
// floor-totp, whose request carries a code as a check's does.
const (
	VerifyCreate        = "verify-create"
	VerifyCreateLimited = "verify-create-limited"
	VerifyCheck         = "verify-check"
)

// ClassicWorkloads is "--workloads classic".
var ClassicWorkloads = []string{FloorTotp, VerifyCreate, VerifyCreateLimited, VerifyCheck}

func init() {
	workloads[VerifyCreate] = workload{floor: FloorTotp, gateway: true, setup: (*bench).verifyCreate,
		note: "201 pending, a new To each: verification + attempt + sealed outbox row in one txn; the code then POSTed to the gateway"}
	workloads[VerifyCreateLimited] = workload{floor: VerifyCreate, gateway: true, setup: (*bench).verifyCreateLimited,
		note: "verify-create with RateLimits naming a rate limit of two buckets (per minute and per hour, never full), the To as the value (or one of --rate-values in turn): + 1 upsert of 2 counters"}
	workloads[VerifyCheck] = workload{floor: FloorTotp, gateway: true, setup: (*bench).verifyCheck,
		note: "200 approved: the right code of a verification made in setup, by To; reservation + compare + approval in one txn"}
}

// classicRateGuess sizes the pools of To numbers and of verifications to
// check when Verifications is 0: above the check rate a 2-core machine
// reached when this was written (about 5,600/s on SQLite). A faster
// server runs a pool dry, which the report says.
const classicRateGuess = 8000

// poolSize is how many inputs a classic workload needs for its window.
func (c *Config) poolSize() int {
	if c.Verifications > 0 {
		return c.Verifications
	}
	return int(min(c.MaxRequests, int64(c.Duration.Seconds()*classicRateGuess)+int64(c.Concurrency)))
}

// numbers returns n distinct valid US mobile-or-fixed numbers not handed
// out before in this run: verifyd validates every To against the
// numbering plan, so the tool must send real-looking ones. They are made
// before the window; checking them costs the window nothing.
func (b *bench) numbers(n int) ([]string, error) {
	out := make([]string, 0, n)
	for len(out) < n {
		i := b.nextNumber.Add(1)
		if i >= 8_000_000 {
			return nil, fmt.Errorf("out of numbers after %d", len(out))
		}
		// +1 628 NXX XXXX: San Francisco's overlay, exchanges 200-999.
		s := "+1628" + strconv.FormatInt(2_000_000+i, 10)
		if _, err := phone.Parse(s); err == nil {
			out = append(out, s)
		}
	}
	return out, nil
}

func verificationForm(to string) string {
	return url.Values{"To": {to}, "Channel": {"sms"}}.Encode()
}

// verifyCreate sends one create per operation, each to a new number, so
// that every one starts a verification rather than re-sending.
func (b *bench) verifyCreate(ctx context.Context) (func(int) op, error) {
	return b.creates(verificationForm)
}

// verifyCreateLimited is verifyCreate with a programmable rate limit of
// two buckets, which no create fills, so that the difference is what
// counting costs. The value is the To, or one of Config.RateValues.
func (b *bench) verifyCreateLimited(ctx context.Context) (func(int) op, error) {
	base := "/v2/Services/" + b.service + "/RateLimits"
	if _, err := b.c.expect(ctx, 201, "POST", base, "", "UniqueName=end_user_phone"); err != nil {
		return nil, fmt.Errorf("create rate limit: %w", err)
	}
	for _, interval := range []string{"60", "3600"} {
		if _, err := b.c.expect(ctx, 201, "POST", base+"/end_user_phone/Buckets", "", "Max=1000000&Interval="+interval); err != nil {
			return nil, fmt.Errorf("create bucket: %w", err)
		}
	}
	var n atomic.Int64
	return b.creates(func(to string) string {
		value := to
		if k := int64(b.cfg.RateValues); k > 0 {
			value = "user-" + strconv.FormatInt((n.Add(1)-1)%k, 10)
		}
		return url.Values{"To": {to}, "Channel": {"sms"}, "RateLimits": {`{"end_user_phone":"` + value + `"}`}}.Encode()
	})
}

// creates returns the operation of the create workloads: one create of
// form(to) per operation, each to a new number of the pool.
func (b *bench) creates(form func(to string) string) (func(int) op, error) {
	tos, err := b.numbers(b.cfg.poolSize())
	if err != nil {
		return nil, err
	}
	path := "/v2/Services/" + b.service + "/Verifications"
	var next atomic.Int64
	return func(int) op {
		return func(ctx context.Context) error {
			i := next.Add(1) - 1
			if i >= int64(len(tos)) {
				return errDry
			}
			_, err := b.c.expectStatus(ctx, 201, "pending", "POST", path, "", form(tos[i]))
			return err
		}
	}, nil
}

// verifyCheck makes the verifications in setup, waits for the gateway to
// receive their codes, and checks one right code per operation.
func (b *bench) verifyCheck(ctx context.Context) (func(int) op, error) {
	tos, err := b.numbers(b.cfg.poolSize())
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	path := "/v2/Services/" + b.service + "/Verifications"
	err = parallel(ctx, b.cfg.Concurrency, len(tos), func(ctx context.Context, i int) error {
		_, err := b.c.expectStatus(ctx, 201, "pending", "POST", path, "", verificationForm(tos[i]))
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := b.awaitOutbox(ctx); err != nil {
		return nil, err
	}
	forms := make([]string, len(tos))
	for i, to := range tos {
		code, ok := b.local.fakes.codeOf(to)
		if !ok {
			return nil, fmt.Errorf("the gateway received no code for %s", to)
		}
		forms[i] = url.Values{"To": {to}, "Code": {code}}.Encode()
	}
	logf(b.cfg.log(), "sent %d verifications through the gateway in %.1fs", len(tos), time.Since(t0).Seconds())
	check := "/v2/Services/" + b.service + "/VerificationCheck"
	var next atomic.Int64
	return func(int) op {
		return func(ctx context.Context) error {
			i := next.Add(1) - 1
			if i >= int64(len(forms)) {
				return errDry
			}
			_, err := b.c.expectStatus(ctx, 200, "approved", "POST", check, "", forms[i])
			return err
		}
	}, nil
}

// gatewayFake is the SMS gateway of the classic workloads: it checks each
// request's signature, as an adapter must, keeps the code it carries, and
// answers as a provider that accepted the message.
type gatewayFake struct {
	secret string
	mu     sync.Mutex
	codes  map[string]string // To → last code
	bad    atomic.Int64
}

func (g *gatewayFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	var req gateway.Request
	if gateway.Verify(g.secret, r.Header.Get("X-Verifyd-Signature"), body, time.Now(), time.Minute) != nil ||
		json.Unmarshal(body, &req) != nil || req.Code == "" {
		g.bad.Add(1)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.codes[req.To] = req.Code
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"message_id":"bench","status":"sent"}`))
}

// codeOf returns the last code the gateway received for to.
func (f *fakes) codeOf(to string) (string, bool) {
	f.gw.mu.Lock()
	defer f.gw.mu.Unlock()
	c, ok := f.gw.codes[to]
	return c, ok
}
