package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/jws"
	"github.com/verifyd/verify/otp"
)

// The floors are the least a server can do for a workload, served by the
// same process and driven by the same client as verifyd, so that a
// workload's ratio to its floor cancels out the machine and the client.
// They are deliberately plain net/http: what the issue calls "a minimal Go
// handler", not a tuned one.

// floorParams is the floor TOTP check: one code, 3 windows.
var floorParams = otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1}

const (
	floorFactors = 1000 // distinct secrets the TOTP floor knows
	floorTokens  = 512  // pre-signed (device JWT, answer) pairs for the ES256 floor
)

type floors struct {
	url     string
	srv     *http.Server
	secrets map[string][]byte // factor SID -> secret, read-only: no storage
	sids    []string
	pub     *ecdsa.PublicKey
	device  *device        // holds the key the ES256 floor trusts
	tokens  []signedAnswer // signed when floor-es256 is set up: JWTs live 600 s
}

// startFloors serves the floor handlers on a loopback port of its own.
func startFloors() (*floors, error) {
	fl := &floors{secrets: make(map[string][]byte, floorFactors)}
	for range floorFactors {
		sid, err := verify.NewSid(rand.Reader, verify.PrefixFactor)
		if err != nil {
			return nil, err
		}
		s := make([]byte, 20)
		if _, err := rand.Read(s); err != nil {
			return nil, err
		}
		fl.secrets[string(sid)] = s
		fl.sids = append(fl.sids, string(sid))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	fl.pub = &key.PublicKey
	fl.device = &device{key: key, account: "AC00000000000000000000000000000000", cred: "YX00000000000000000000000000000000"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fl.url = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /totp", fl.handleTotp)
	mux.HandleFunc("POST /es256", fl.handleES256)
	fl.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = fl.srv.Serve(ln) }()
	return fl, nil
}

// addToken signs one approval over a challenge shaped like verifyd's, so
// that the floor parses and hashes as many bytes as a real answer has.
func (fl *floors) addToken() error {
	d := fl.device
	now := time.Now().UTC()
	ch := map[string]any{
		"sid": "YC" + strings.Repeat("0", 32), "account_sid": d.account, "service_sid": "VA" + strings.Repeat("0", 32),
		"entity_sid": "YE" + strings.Repeat("0", 32), "identity": "bench-push-000000", "factor_sid": "YF" + strings.Repeat("0", 32),
		"date_created": now.Format(time.RFC3339), "expiration_date": now.Add(5 * time.Minute).Format(time.RFC3339),
		"details":        map[string]any{"message": "Log in to verifyd-bench?", "fields": []any{map[string]any{"label": "IP", "value": "203.0.113.7"}}},
		"hidden_details": map[string]any{"ip": "203.0.113.7"},
	}
	payload, err := answer(d.key, ch, verify.SignatureFields, "approved")
	if err != nil {
		return err
	}
	auth, err := d.auth()
	if err != nil {
		return err
	}
	fl.tokens = append(fl.tokens, signedAnswer{path: "/es256", auth: auth, form: "AuthPayload=" + payload})
	return nil
}

func (fl *floors) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = fl.srv.Shutdown(ctx)
}

// simpleForm is a plain form parser: split on '&' and '=', unescape values.
func simpleForm(r *http.Request) (map[string]string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, 4)
	for kv := range strings.SplitSeq(string(b), "&") {
		k, v, _ := strings.Cut(kv, "=")
		if v, err = url.QueryUnescape(v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func floorJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// handleTotp parses a challenge form and checks its code: 201 approved or
// pending, like create challenge, with nothing stored.
func (fl *floors) handleTotp(w http.ResponseWriter, r *http.Request) {
	f, err := simpleForm(r)
	if err != nil {
		floorJSON(w, 400, `{"status":"bad form"}`)
		return
	}
	sid := f["FactorSid"]
	secret, ok := fl.secrets[sid]
	if !ok {
		floorJSON(w, 404, `{"status":"no such factor"}`)
		return
	}
	status := "pending"
	if _, ok := otp.Validate(secret, f["AuthPayload"], time.Now(), floorParams, 0); ok {
		status = "approved"
	}
	floorJSON(w, 201, `{"factor_sid":"`+sid+`","status":"`+status+`"}`)
}

// handleES256 does the verification work of a push approval and nothing
// else: the device JWT of the Authorization header and the AuthPayload JWT,
// each parsed and ES256-verified against the (already parsed) key, their
// claims decoded and checked.
func (fl *floors) handleES256(w http.ResponseWriter, r *http.Request) {
	if err := fl.verifyES256(r); err != nil {
		floorJSON(w, 403, `{"status":"`+err.Error()+`"}`)
		return
	}
	floorJSON(w, 200, `{"status":"approved"}`)
}

func (fl *floors) verifyES256(r *http.Request) error {
	_, tok, _ := r.BasicAuth()
	t, err := jws.Parse(tok)
	if err != nil || t.Header.Cty != verify.DeviceJWTType || t.VerifyES256(fl.pub) != nil {
		return errors.New("bad device token")
	}
	var claims struct{ Nbf, Exp int64 }
	if json.Unmarshal(t.Payload, &claims) != nil {
		return errors.New("bad claims")
	}
	if now := time.Now().Unix(); now < claims.Nbf-60 || now >= claims.Exp+60 {
		return errors.New("expired device token")
	}
	f, err := simpleForm(r)
	if err != nil {
		return errors.New("bad form")
	}
	a, err := jws.Parse(f["AuthPayload"])
	if err != nil || a.VerifyES256(fl.pub) != nil {
		return errors.New("bad answer")
	}
	var signed map[string]any
	if json.Unmarshal(a.Payload, &signed) != nil || signed["status"] != "approved" {
		return errors.New("bad answer payload")
	}
	return nil
}

func (b *bench) ensureFloors() error {
	if b.floors != nil {
		return nil
	}
	fl, err := startFloors()
	b.floors = fl
	return err
}

// floorTotp sends the TOTP floor a correct current code of one of its
// factors (codes may repeat: the floor stores nothing); 201 approved only.
func (b *bench) floorTotp(context.Context) (func(int) op, error) {
	if err := b.ensureFloors(); err != nil {
		return nil, err
	}
	fl := b.floors
	var next atomic.Int64
	return func(int) op {
		return func(ctx context.Context) error {
			sid := fl.sids[int(next.Add(1)-1)%len(fl.sids)]
			code, err := otp.Code(fl.secrets[sid], time.Now(), floorParams)
			if err != nil {
				return err
			}
			_, err = b.c.expectStatus(ctx, 201, "approved", "POST", fl.url+"/totp", "", "FactorSid="+sid+"&AuthPayload="+code)
			return err
		}
	}, nil
}

// floorES256 sends the ES256 floor pre-signed approvals, as push-approve
// sends pre-signed ones to verifyd; 200 approved only.
func (b *bench) floorES256(context.Context) (func(int) op, error) {
	if err := b.ensureFloors(); err != nil {
		return nil, err
	}
	fl := b.floors
	fl.tokens = fl.tokens[:0]
	for range floorTokens {
		if err := fl.addToken(); err != nil {
			return nil, err
		}
	}
	var next atomic.Int64
	return func(int) op {
		return func(ctx context.Context) error {
			a := fl.tokens[int(next.Add(1)-1)%len(fl.tokens)]
			_, err := b.c.expectStatus(ctx, 200, "approved", "POST", fl.url+a.path, a.auth, a.form)
			return err
		}
	}, nil
}
