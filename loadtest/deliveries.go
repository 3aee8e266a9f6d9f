package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/verifyd/verify"
)

// The delivery workloads. The -hooked ones are the plain workloads run in
// a second service set up as a Verify Push deployment is, so that the
// report's ratio is what delivering costs: the same work, in the same
// run, with and without a webhook on every event and a (fake) APNs.
const (
	TotpFreshHooked         = "totp-fresh-hooked"
	PushApproveHooked       = "push-approve-hooked"
	PushCreateApproveHooked = "push-create-approve-hooked"
	PushNotify              = "push-notify"
	OutboxDrain             = "outbox-drain"
)

// DeliveryWorkloads is "--workloads deliveries": each hooked workload just
// after the plain one it is compared with, then the notification latency.
// OutboxDrain is left out: it takes minutes (see drain).
var DeliveryWorkloads = []string{TotpFresh, TotpFreshHooked, PushApprove, PushApproveHooked,
	PushCreateApprove, PushCreateApproveHooked, PushNotify}

func init() {
	workloads[TotpFreshHooked] = workload{floor: TotpFresh, hooked: true, setup: onHooked((*bench).totpFresh),
		note: "totp-fresh, webhook on every event: + 1 signed POST (challenge.approved) per op"}
	workloads[PushApproveHooked] = workload{floor: PushApprove, hooked: true, setup: onHooked((*bench).pushApprove),
		note: "push-approve on apn devices, webhook on every event: + 1 signed POST per op (setup's pushes delivered before the window)"}
	workloads[PushCreateApproveHooked] = workload{floor: PushCreateApprove, hooked: true, setup: onHooked((*bench).pushCreateApprove),
		note: "push-create-approve on apn devices, webhook on every event: + 1 APNs push (unless approved first) + 1 POST per op"}
	workloads[PushNotify] = workload{hooked: true, setup: onHooked(noOp((*bench).ensurePush)), drive: (*bench).notifyWindow,
		note: "open loop at --notify-rate creates/s; latency = create sent -> notification at the fake APNs"}
	workloads[OutboxDrain] = workload{hooked: true, once: true, setup: onHooked(noOp((*bench).ensureTotp)), drive: (*bench).drain,
		note: "receiver down, then worker down, for --outage each; see the drain lines"}
}

// deliveries reports whether the run has a workload that needs the fakes.
func (c *Config) deliveries() bool {
	for _, w := range c.Workloads {
		if workloads[w].hooked || workloads[w].gateway {
			return true
		}
	}
	return false
}

// onHooked runs a workload's setup on the run's hooked service, creating
// it first, and returns once the outbox has delivered everything the setup
// caused (factor events, the pushes of pre-created challenges), so that
// none of it lands in the timed window.
func onHooked(setup func(*bench, context.Context) (func(int) op, error)) func(*bench, context.Context) (func(int) op, error) {
	return func(b *bench, ctx context.Context) (func(int) op, error) {
		h, err := b.hookedBench(ctx)
		if err != nil {
			return nil, err
		}
		newOp, err := setup(h, ctx)
		if err != nil {
			return nil, err
		}
		if _, err := b.awaitOutbox(ctx); err != nil {
			return nil, err
		}
		return newOp, nil
	}
}

// noOp adapts a provisioning step into the setup of a workload that drives
// itself (workload.drive) and so has no closed-loop operation.
func noOp(ensure func(*bench, context.Context) error) func(*bench, context.Context) (func(int) op, error) {
	return func(b *bench, ctx context.Context) (func(int) op, error) { return nil, ensure(b, ctx) }
}

// hookedBench returns the run's second service, created on first use: an
// APNs credential in token mode (a P-256 key drawn here; the fake APNs
// does not check provider tokens), Push.ApnCredentialSid naming it, and a
// webhook on "*" at the fake receiver. Its push devices enroll on platform
// apn with a notification token; its TOTP factors are its own.
func (b *bench) hookedBench(ctx context.Context) (*bench, error) {
	if b.hooked != nil {
		return b.hooked, nil
	}
	if b.local == nil || b.local.fakes == nil {
		return nil, errors.New("delivery workloads need the in-process server (no --target): the fakes and the worker run in this process")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	r, err := b.c.expect(ctx, 201, "POST", "/v1/Credentials", "", url.Values{
		"Type": {"apn"}, "FriendlyName": {"verifyd-bench"}, "Sandbox": {"true"},
		"PrivateKey": {string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))},
		"KeyId":      {"BENCHKEY01"}, "TeamId": {"BENCHTEAM1"},
	}.Encode())
	if err != nil {
		return nil, fmt.Errorf("create APNs credential: %w", err)
	}
	cred, _ := jsonString(r.body, "sid")
	h := &bench{cfg: b.cfg, c: b.c, account: b.account, local: b.local, report: b.report,
		apn: true, pushFactors: b.cfg.hookedPushFactors}
	if err := h.createService(ctx, url.Values{"Push.ApnCredentialSid": {cred}}); err != nil {
		return nil, err
	}
	if _, err := b.c.expect(ctx, 201, "POST", "/v2/Services/"+h.service+"/Webhooks", "", url.Values{
		"FriendlyName": {"verifyd-bench"}, "EventTypes": {"*"}, "WebhookUrl": {b.local.fakes.hook.URL + "/events"},
	}.Encode()); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	b.hooked = h
	return h, nil
}

// notificationToken is an APNs device token as the SDK registers it: 32
// random bytes in hex.
func notificationToken() (string, error) {
	t := make([]byte, 32)
	_, err := rand.Read(t)
	return hex.EncodeToString(t), err
}

// maxOutboxWait bounds awaitOutbox: a backlog that takes longer is a
// failure of the run, not something to wait out.
const maxOutboxWait = 3 * time.Minute

// awaitOutbox waits until the in-process server's outbox has no pending
// row and returns how long that took; a code the fake gateway refused
// fails the run.
func (b *bench) awaitOutbox(ctx context.Context) (time.Duration, error) {
	if b.local == nil {
		return 0, nil
	}
	t0 := time.Now()
	for {
		rows, err := b.local.db.ListOutbox(ctx, verify.OutboxPending, 1)
		if err != nil {
			return 0, err
		}
		if len(rows) == 0 {
			if f := b.local.fakes; f != nil && f.gw.bad.Load() > 0 {
				return 0, fmt.Errorf("the gateway refused %d code deliveries (signature or body)", f.gw.bad.Load())
			}
			return time.Since(t0), nil
		}
		if time.Since(t0) > maxOutboxWait {
			return 0, fmt.Errorf("outbox still has pending rows after %s", maxOutboxWait)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// openLoop starts op rate times a second for dur, each in a goroutine of
// its own, whether or not the earlier ones have been answered: a closed
// loop would slow down with the server and hide its latency. It waits for
// all of them and returns how many it started and their errors. An op
// that returns errDry stops the loop.
func openLoop(ctx context.Context, rate int, dur time.Duration, op func(ctx context.Context) error) (int, []error) {
	var (
		mu   sync.Mutex
		errs []error
	)
	n := schedule(ctx, rate, dur, math.MaxInt64, func(time.Time) error {
		err := op(ctx)
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		return err
	}, func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	})
	return n, errs
}

// notifyLate bounds how long notifyWindow waits, after its window, for
// the last notifications; one not there by then counts as an error.
const notifyLate = 5 * time.Second

// notifyWindow creates challenges for apn devices at cfg.NotifyRate per
// second, open loop, and takes as each one's latency the time from just
// before its create request to the arrival of its notification at the
// fake APNs: the API answer, the commit, the worker's claim and the
// HTTP/2 request to APNs, which is what a user waits for before the phone
// shows the prompt.
func (b *bench) notifyWindow(ctx context.Context, acc *window, slice time.Duration) error {
	type sent struct {
		sid string
		t0  time.Time
	}
	var (
		mu   sync.Mutex
		sids []sent
	)
	start := time.Now()
	_, errs := openLoop(ctx, b.cfg.NotifyRate, slice, func(ctx context.Context) error {
		d := b.takeDevice()
		if d == nil {
			return errDry
		}
		t0 := time.Now()
		r, err := b.c.expect(ctx, 201, "POST", b.entityPath(d.identity)+"/Challenges", "", challengeForm(d.sid))
		if err != nil {
			return err
		}
		sid, _ := jsonString(r.body, "sid")
		mu.Lock()
		sids = append(sids, sent{sid, t0})
		mu.Unlock()
		return nil
	})
	elapsed := time.Since(start)
	for _, err := range errs {
		if errors.Is(err, errDry) {
			acc.dryAt = acc.elapsed + elapsed
			continue
		}
		acc.fail(err)
	}
	deadline := time.Now().Add(notifyLate)
	for _, s := range sids {
		at, ok := b.local.fakes.notifiedAt(s.sid)
		for !ok && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			at, ok = b.local.fakes.notifiedAt(s.sid)
		}
		if !ok {
			acc.fail(fmt.Errorf("challenge %s: no notification at the fake APNs %s after the window", s.sid, notifyLate))
			continue
		}
		acc.lats = append(acc.lats, at.Sub(s.t0))
	}
	acc.elapsed += elapsed
	return ctx.Err()
}
