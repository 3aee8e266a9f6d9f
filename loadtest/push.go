package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/verifyd/verify"
	sdk "github.com/verifyd/verify/device" // named apart from this package's device type
)

// device is a push factor the tool enrolled with a key it holds, signing
// as the Verify Push SDKs do.
type device struct {
	key      *ecdsa.PrivateKey
	account  string
	identity string
	sid      string // YF…
	cred     string // credential_sid, the kid of its JWTs
	// budget is how many more challenges the tool may create for the
	// factor in this run without passing its hourly quota.
	budget atomic.Int32
}

// challengesPerDevice is a push factor's hourly challenge quota in verifyd,
// as in Twilio: the most challenges one device can take in a run.
var challengesPerDevice = verify.ChallengeQuotaFor(&verify.Factor{Type: verify.FactorPush}).Hour

// takeDevice returns the next device, round robin, that may still have a
// challenge created for it, counting that challenge; nil when none may.
func (b *bench) takeDevice() *device {
	for range b.devices {
		d := b.devices[int(b.nextDevice.Add(1)-1)%len(b.devices)]
		if d.budget.Add(-1) >= 0 {
			return d
		}
	}
	return nil
}

// jwt mints a device JWT as the SDK does: cty twilio-pba;v=1, kid the
// credential, sub the account, valid for 600 s from now.
func (d *device) jwt() (string, error) {
	return sdk.JWT(d.key, d.cred, d.account, time.Now().Unix())
}

// auth is the device's Authorization header with a fresh JWT.
func (d *device) auth() (string, error) {
	t, err := d.jwt()
	return basic("token", t), err
}

// answer signs status over the given fields of a challenge as the device
// read it, which is what the server compares field by field.
func answer(key *ecdsa.PrivateKey, challenge map[string]any, fields []string, status string) (string, error) {
	raw, err := json.Marshal(challenge)
	if err != nil {
		return "", err
	}
	return sdk.Answer(key, raw, fields, status)
}

// challengeForm is a push challenge as a login page would create it, with
// a detail field and hidden details, which the device signs too. It expires
// after 55 minutes, so that a long setup does not outlive its challenges.
func challengeForm(factor string) string {
	return url.Values{
		"FactorSid":       {factor},
		"Details.Message": {"Log in to verifyd-bench?"},
		"Details.Fields":  {`{"label":"IP","value":"203.0.113.7"}`},
		"HiddenDetails":   {`{"ip":"203.0.113.7"}`},
		"ExpirationDate":  {time.Now().Add(55 * time.Minute).UTC().Format(time.RFC3339)},
	}.Encode()
}

// ensurePush enrolls cfg.PushFactors devices, one per entity, as the SDK
// does: an enrollment access token, create factor with it, then verify the
// factor with a device JWT and a DER signature over the factor SID.
func (b *bench) ensurePush(ctx context.Context) error {
	if b.devices != nil {
		return nil
	}
	n := b.pushFactors
	devices := make([]*device, n)
	t0 := time.Now()
	err := parallel(ctx, b.cfg.Concurrency, n, func(ctx context.Context, i int) error {
		d := &device{account: b.account, identity: fmt.Sprintf("bench-push-%06d", i)}
		d.budget.Store(int32(challengesPerDevice))
		r, err := b.c.expect(ctx, 201, "POST", "/v2/Services/"+b.service+"/AccessTokens", "", "Identity="+d.identity+"&FactorType=push")
		if err != nil {
			return fmt.Errorf("access token: %w", err)
		}
		token, _ := jsonString(r.body, "token")
		if d.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return err
		}
		der, err := x509.MarshalPKIXPublicKey(&d.key.PublicKey)
		if err != nil {
			return err
		}
		form := url.Values{
			"FriendlyName": {"bench device"}, "FactorType": {"push"},
			"Binding.PublicKey": {base64.StdEncoding.EncodeToString(der)}, "Binding.Alg": {"ES256"},
			"Config.SdkVersion": {"3.0.0"}, "Config.AppId": {"com.example.bench"}, "Config.NotificationPlatform": {"none"},
		}
		if b.apn {
			form.Set("Config.NotificationPlatform", "apn")
			tok, err := notificationToken()
			if err != nil {
				return err
			}
			form.Set("Config.NotificationToken", tok)
		}
		if r, err = b.c.expect(ctx, 201, "POST", b.entityPath(d.identity)+"/Factors", basic("token", token), form.Encode()); err != nil {
			return fmt.Errorf("enroll push factor: %w", err)
		}
		d.sid, _ = jsonString(r.body, "sid")
		d.cred, _ = jsonString(r.body, "credential_sid")
		h := sha256.Sum256([]byte(d.sid))
		sig, err := ecdsa.SignASN1(rand.Reader, d.key, h[:])
		if err != nil {
			return err
		}
		auth, err := d.auth()
		if err != nil {
			return err
		}
		if _, err := b.c.expectStatus(ctx, 200, "verified", "POST", b.entityPath(d.identity)+"/Factors/"+d.sid, auth,
			"AuthPayload="+url.QueryEscape(base64.StdEncoding.EncodeToString(sig))); err != nil {
			return fmt.Errorf("verify push factor: %w", err)
		}
		devices[i] = d
		return nil
	})
	if err != nil {
		return err
	}
	b.devices = devices
	secs := time.Since(t0).Seconds()
	what := "push factors (token + enroll + verify)"
	if b.apn {
		what = "push factors on apn, hooked service"
	}
	b.report.Provisioning = append(b.report.Provisioning, Provisioning{What: what, Count: n, Seconds: round(secs, 1)})
	logf(b.cfg.log(), "enrolled %d push factors in %.1fs", n, secs)
	return nil
}

// signedAnswer is a device's approval prepared before the timed window.
type signedAnswer struct{ path, auth, form string }

// pushApprove pre-creates cfg.PushChallenges challenges and, as the device
// would, reads each (GET with a device JWT), signs an approval over the
// fields the Twilio-Verify-Signature-Fields header names, and mints the JWT
// of the answer. The timed operation is then exactly one device POST: the
// server's JWT check, challenge fetch, answer verification and
// compare-and-swap. Each challenge is answered once.
func (b *bench) pushApprove(ctx context.Context) (func(int) op, error) {
	if err := b.ensurePush(ctx); err != nil {
		return nil, err
	}
	answers := make([]signedAnswer, b.cfg.PushChallenges)
	t0 := time.Now()
	err := parallel(ctx, b.cfg.Concurrency, len(answers), func(ctx context.Context, i int) error {
		d := b.takeDevice()
		if d == nil {
			return fmt.Errorf("%d push factors take only %d challenges: raise --push-factors", len(b.devices), len(b.devices)*challengesPerDevice)
		}
		r, err := b.c.expect(ctx, 201, "POST", b.entityPath(d.identity)+"/Challenges", "", challengeForm(d.sid))
		if err != nil {
			return err
		}
		sid, _ := jsonString(r.body, "sid")
		path := b.entityPath(d.identity) + "/Challenges/" + sid
		auth, err := d.auth()
		if err != nil {
			return err
		}
		if r, err = b.c.expect(ctx, 200, "GET", path, auth, ""); err != nil {
			return err
		}
		fields := r.header.Get("Twilio-Verify-Signature-Fields")
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil || fields == "" {
			return fmt.Errorf("GET challenge: fields %q, %v", fields, err)
		}
		payload, err := answer(d.key, body, strings.Split(fields, ","), "approved")
		if err != nil {
			return err
		}
		if auth, err = d.auth(); err != nil {
			return err
		}
		answers[i] = signedAnswer{path: path, auth: auth, form: "AuthPayload=" + payload}
		return nil
	})
	if err != nil {
		return nil, err
	}
	logf(b.cfg.log(), "pre-created and signed %d push challenges in %.1fs", len(answers), time.Since(t0).Seconds())
	var next atomic.Int64
	return func(int) op {
		return func(ctx context.Context) error {
			i := next.Add(1) - 1
			if i >= int64(len(answers)) {
				return errDry
			}
			a := answers[i]
			_, err := b.c.expectStatus(ctx, 200, "approved", "POST", a.path, a.auth, a.form)
			return err
		}
	}, nil
}

// pushCreateApprove is the whole flow per operation: the backend creates a
// challenge, the device signs an approval over verify.SignatureFields of the
// challenge as created, with a fresh JWT, and posts it. The client's two
// ES256 signatures run inside the timed operation, on the same CPU.
func (b *bench) pushCreateApprove(ctx context.Context) (func(int) op, error) {
	if err := b.ensurePush(ctx); err != nil {
		return nil, err
	}
	return func(int) op {
		return func(ctx context.Context) error {
			d := b.takeDevice()
			if d == nil {
				return errDry
			}
			r, err := b.c.expect(ctx, 201, "POST", b.entityPath(d.identity)+"/Challenges", "", challengeForm(d.sid))
			if err != nil {
				return err
			}
			var body map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil {
				return err
			}
			payload, err := answer(d.key, body, verify.SignatureFields, "approved")
			if err != nil {
				return err
			}
			auth, err := d.auth()
			if err != nil {
				return err
			}
			sid, _ := body["sid"].(string)
			_, err = b.c.expectStatus(ctx, 200, "approved", "POST", b.entityPath(d.identity)+"/Challenges/"+sid, auth, "AuthPayload="+payload)
			return err
		}
	}, nil
}
