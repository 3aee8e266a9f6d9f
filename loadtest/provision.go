package loadtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifyd/verify/otp"
)

// TOTP settings of the bench service. A 60 s step with skew 2 gives each
// factor five acceptable steps at any moment, the most verifyd allows, so
// that fewer factors supply the fresh codes of a run.
const (
	benchTimeStep = 60
	benchSkew     = 2
	benchDigits   = 6
	factorsPerEnt = 100 // verifyd's (and Twilio's) cap of TOTP factors per entity
)

// parallel runs job(0..n-1) on conc goroutines and returns the first error;
// after an error the remaining jobs are skipped.
func parallel(ctx context.Context, conc, n int, job func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := job(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// entityPath is the API path of an identity in the bench service.
func (b *bench) entityPath(identity string) string {
	return "/v2/Services/" + b.service + "/Entities/" + identity
}

// createService creates the run's own service, so a run against a shared
// server never touches anyone else's data.
// extra adds settings (the hooked service's push credential).
func (b *bench) createService(ctx context.Context, extra url.Values) error {
	form := url.Values{
		"FriendlyName":  {"verifyd-bench"},
		"Totp.TimeStep": {fmt.Sprint(benchTimeStep)},
		"Totp.Skew":     {fmt.Sprint(benchSkew)},
	}
	for k, v := range extra {
		form[k] = v
	}
	r, err := b.c.expect(ctx, 201, "POST", "/v2/Services", "", form.Encode())
	if err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	sid, ok := jsonString(r.body, "sid")
	if !ok {
		return fmt.Errorf("create service: no sid in %s", snippet(r.body))
	}
	b.service = sid
	return nil
}

// ensureTotp provisions cfg.Factors TOTP factors through the API, with
// secrets the tool draws and sends as Binding.Secret, 100 per entity, and
// verifies each with the code of the oldest step its window accepts, which
// leaves the most fresh steps for the run.
func (b *bench) ensureTotp(ctx context.Context) error {
	if b.pool != nil {
		return nil
	}
	n := b.cfg.Factors
	pool := newCodePool(time.Now, benchTimeStep, benchSkew, nil)
	factors := make([]*totpFactor, n)
	t0 := time.Now()
	err := parallel(ctx, b.cfg.Concurrency, n, func(ctx context.Context, i int) error {
		f := &totpFactor{identity: fmt.Sprintf("bench-totp-%06d", i/factorsPerEnt), secret: make([]byte, 20)}
		if _, err := rand.Read(f.secret); err != nil {
			return err
		}
		form := "FriendlyName=bench&FactorType=totp&Binding.Secret=" + otp.EncodeSecret(f.secret)
		r, err := b.c.expect(ctx, 201, "POST", b.entityPath(f.identity)+"/Factors", "", form)
		if err != nil {
			return fmt.Errorf("create totp factor: %w", err)
		}
		f.sid, _ = jsonString(r.body, "sid")
		step := pool.verifyStep()
		code, err := otp.HOTP(f.secret, uint64(step), "sha1", benchDigits)
		if err != nil {
			return err
		}
		if _, err := b.c.expectStatus(ctx, 200, "verified", "POST", b.entityPath(f.identity)+"/Factors/"+f.sid, "", "AuthPayload="+code); err != nil {
			return fmt.Errorf("verify totp factor: %w", err)
		}
		f.next = step + 1
		factors[i] = f
		return nil
	})
	if err != nil {
		return err
	}
	pool.queue = slices.Clone(factors) // take clears the slots it pops
	b.totp, b.pool = factors, pool
	for e := 0; e < (n+factorsPerEnt-1)/factorsPerEnt; e++ {
		b.listIDs = append(b.listIDs, fmt.Sprintf("bench-totp-%06d", e))
	}
	secs := time.Since(t0).Seconds()
	what := "totp factors (create + verify)"
	if b.apn {
		what += ", hooked service"
	}
	b.report.Provisioning = append(b.report.Provisioning, Provisioning{What: what, Count: n, Seconds: round(secs, 1)})
	logf(b.cfg.log(), "provisioned %d TOTP factors in %.1fs (%.0f/s, 2 requests each)", n, secs, float64(n)/secs)
	return nil
}

// totpFresh: each operation creates a challenge with the correct code of a
// (factor, step) never used before; only 201 approved counts as success.
func (b *bench) totpFresh(ctx context.Context) (func(int) op, error) {
	if err := b.ensureTotp(ctx); err != nil {
		return nil, err
	}
	return func(int) op {
		return func(ctx context.Context) error {
			return b.pool.withCode(func(f *totpFactor, code string) error { return b.totpChallenge(ctx, f, code) })
		}
	}, nil
}

// totpChallenge creates a challenge with f's right code; only 201 approved
// is success.
func (b *bench) totpChallenge(ctx context.Context, f *totpFactor, code string) error {
	_, err := b.c.expectStatus(ctx, 201, "approved", "POST", b.entityPath(f.identity)+"/Challenges", "",
		"FactorSid="+f.sid+"&AuthPayload="+code)
	return err
}

// totpWrong: each operation creates a new challenge with a code that
// matches no step near now, so the server stores a pending challenge with
// one failed attempt; only 201 pending counts as success.
func (b *bench) totpWrong(ctx context.Context) (func(int) op, error) {
	if err := b.ensureTotp(ctx); err != nil {
		return nil, err
	}
	var next atomic.Int64
	return func(int) op {
		return func(ctx context.Context) error {
			f := b.totp[int(next.Add(1)-1)%len(b.totp)]
			code, err := wrongCode(f.secret, time.Now())
			if err != nil {
				return err
			}
			_, err = b.c.expectStatus(ctx, 201, "pending", "POST", b.entityPath(f.identity)+"/Challenges", "",
				"FactorSid="+f.sid+"&AuthPayload="+code)
			return err
		}
	}, nil
}

// wrongCode returns a random code different from the codes of every step
// the server could check at about now (one extra step either side).
func wrongCode(secret []byte, now time.Time) (string, error) {
	cur := now.Unix() / benchTimeStep
	var valid []string
	for s := cur - benchSkew - 1; s <= cur+benchSkew+1; s++ {
		c, err := otp.HOTP(secret, uint64(s), "sha1", benchDigits)
		if err != nil {
			return "", err
		}
		valid = append(valid, c)
	}
	for {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		n := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) % 1000000
		code := fmt.Sprintf("%06d", n)
		ok := true
		for _, v := range valid {
			ok = ok && v != code
		}
		if ok {
			return code, nil
		}
	}
}
