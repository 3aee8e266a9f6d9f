package loadtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/verifyd/verify/otp"
)

// PeerTotp is the peer's TOTP check, measured in the same run as verifyd's:
// the comparison is with OpenBao's TOTP secrets engine, a server a
// team might run instead. It speaks that engine's HTTP API (also Vault's):
// keys are created under Config.PeerURL + "/v1/totp/keys/NAME" and codes
// checked at ".../v1/totp/code/NAME" with the token in a Bearer header.
const PeerTotp = "peer-totp"

// peerSkew is the skew the peer's keys get: OpenBao allows 0 or 1 step on
// either side, where verifyd's bench service allows 2.
const peerSkew = 1

// peerKeysPerSecond sizes the peer's keys when PeerKeys is 0: each gives
// 2*peerSkew+1 = 3 fresh codes at once, plus one per 60 s step.
const peerKeysPerSecond = 2500

func init() {
	workloads[PeerTotp] = workload{floor: FloorTotp, note: "the peer (--peer-url) checks a fresh right code, 200 valid", setup: (*bench).peerTotp}
}

// peer is the peer server's client and the pool of its keys, handed out
// as verifyd's factors are (codepool.go): each (key, step) once, so that
// every check carries a code the peer has not seen and must remember as
// used.
type peer struct {
	c    *client
	pool *codePool
}

// peerTotp provisions the peer's keys with secrets the tool draws, then
// checks one fresh right code per operation; only 200 with "valid": true
// counts.
func (b *bench) peerTotp(ctx context.Context) (func(int) op, error) {
	if b.peer == nil {
		p, err := b.provisionPeer(ctx)
		if err != nil {
			return nil, err
		}
		b.peer = p
	}
	p := b.peer
	return func(int) op {
		return func(ctx context.Context) error {
			return p.pool.withCode(func(k *totpFactor, code string) error {
				r, err := p.c.expect(ctx, 200, "POST", "/v1/totp/code/"+k.sid, "", `{"code":"`+code+`"}`)
				if err != nil {
					return err
				}
				if !strings.Contains(string(r.body), `"valid":true`) {
					return fmt.Errorf("peer: code %s of %s not valid: %s", code, k.sid, snippet(r.body))
				}
				return nil
			})
		}
	}, nil
}

// provisionPeer creates the peer's keys (PeerKeys, or sized from the
// window), with verifyd's bench period and digits.
func (b *bench) provisionPeer(ctx context.Context) (*peer, error) {
	p := &peer{c: &client{hc: b.c.hc, base: strings.TrimSuffix(b.cfg.PeerURL, "/"), auth: "Bearer " + b.cfg.PeerToken}}
	n := b.cfg.PeerKeys
	if n == 0 {
		n = max(2000, int(b.cfg.Duration.Seconds()*peerKeysPerSecond))
	}
	run := make([]byte, 4)
	if _, err := rand.Read(run); err != nil {
		return nil, err
	}
	keys := make([]*totpFactor, n)
	t0 := time.Now()
	err := parallel(ctx, b.cfg.Concurrency, n, func(ctx context.Context, i int) error {
		k := &totpFactor{sid: fmt.Sprintf("bench-%x-%06d", run, i), secret: make([]byte, 20)}
		if _, err := rand.Read(k.secret); err != nil {
			return err
		}
		body := fmt.Sprintf(`{"key":%q,"period":%d,"skew":%d,"digits":%d,"algorithm":"SHA1"}`,
			otp.EncodeSecret(k.secret), benchTimeStep, peerSkew, benchDigits)
		if _, err := p.c.expect(ctx, 204, "POST", "/v1/totp/keys/"+k.sid, "", body); err != nil {
			return fmt.Errorf("peer: create key: %w", err)
		}
		keys[i] = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.pool = newCodePool(time.Now, benchTimeStep, peerSkew, keys)
	secs := time.Since(t0).Seconds()
	b.report.Provisioning = append(b.report.Provisioning, Provisioning{What: "peer TOTP keys", Count: n, Seconds: round(secs, 1)})
	logf(b.cfg.log(), "created %d TOTP keys on the peer in %.1fs", n, secs)
	return p, nil
}
