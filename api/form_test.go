package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifyd/verify"
)

func TestParseForm(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    form
		wantErr bool
	}{
		{name: "empty", in: "", want: nil},
		{name: "plus is space", in: "FriendlyName=Example+Service", want: form{{"FriendlyName", "Example Service"}}},
		{name: "percent-20 is space", in: "FriendlyName=Example%20Service", want: form{{"FriendlyName", "Example Service"}}},
		{name: "encoded plus stays plus", in: "To=%2B15017122661", want: form{{"To", "+15017122661"}}},
		{name: "semicolon kept", in: "FriendlyName=a;b&Metadata={\"k\":\"x;y\"}", want: form{{"FriendlyName", "a;b"}, {"Metadata", `{"k":"x;y"}`}}},
		{name: "repeated keys in order", in: "Details.Fields=2&A=x&Details.Fields=1",
			want: form{{"Details.Fields", "2"}, {"A", "x"}, {"Details.Fields", "1"}}},
		{name: "equals inside value", in: "Binding.PublicKey=MFkw+key==&AuthPayload=abc%3D%3D",
			want: form{{"Binding.PublicKey", "MFkw key=="}, {"AuthPayload", "abc=="}}},
		{name: "unescaped equals padding", in: "Binding.PublicKey=AAAA/bb+c=", want: form{{"Binding.PublicKey", "AAAA/bb c="}}},
		{name: "key without value", in: "A&B=", want: form{{"A", ""}, {"B", ""}}},
		{name: "empty segments skipped", in: "&&A=1&&", want: form{{"A", "1"}}},
		{name: "utf-8 escapes", in: "N=John%E2%80%99s", want: form{{"N", "John’s"}}},
		{name: "bad escape", in: "A=%zz", wantErr: true},
		{name: "truncated escape", in: "A=abc%4", wantErr: true},
		{name: "lone percent", in: "A=100%", wantErr: true},
		{name: "bad escape in key", in: "%G1=x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseForm(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseForm(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(pair{})); diff != "" {
				t.Errorf("parseForm(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParamsTyped(t *testing.T) {
	f, err := parseForm("N=42&B=TRUE&F=false&D=2030-01-02T05:04:05%2B02:00&S=x&S=y")
	if err != nil {
		t.Fatal(err)
	}
	p := &params{form: f, code: verify.EPushParam}
	if n := p.int("N"); n == nil || *n != 42 {
		t.Errorf("int(N) = %v", n)
	}
	if b := p.bool("B"); b == nil || !*b {
		t.Errorf("bool(B) = %v", b)
	}
	if b := p.bool("F"); b == nil || *b {
		t.Errorf("bool(F) = %v", b)
	}
	want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if d := p.time("D"); d == nil || !d.Equal(want) || d.Location() != time.UTC {
		t.Errorf("time(D) = %v, want %v in UTC", d, want)
	}
	if got := p.strs("S"); !cmp.Equal(got, []string{"x", "y"}) {
		t.Errorf("strs(S) = %q", got)
	}
	if p.str("Missing") != nil || p.int("Missing") != nil || p.bool("Missing") != nil || p.time("Missing") != nil {
		t.Error("a parameter that was not sent must be nil")
	}
	if p.err != nil {
		t.Fatalf("unexpected error %v", p.err)
	}
}

func TestParamsInvalid(t *testing.T) {
	tests := []struct {
		in, name string
		code     int
		get      func(p *params)
	}{
		{"Ttl=1.5", "Ttl", verify.EAccessToken, func(p *params) { p.int("Ttl") }},
		{"CodeLength=", "CodeLength", verify.EInvalidParam, func(p *params) { p.int("CodeLength") }},
		{"LookupEnabled=yes", "LookupEnabled", verify.EInvalidParam, func(p *params) { p.bool("LookupEnabled") }},
		{"ExpirationDate=Mon,+06+May+2024", "ExpirationDate", verify.EPushParam, func(p *params) { p.time("ExpirationDate") }},
		{"ExpirationDate=2030-01-02T03:04:05", "ExpirationDate", verify.EPushParam, func(p *params) { p.time("ExpirationDate") }},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := parseForm(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			p := &params{form: f, code: tt.code}
			tt.get(p)
			if got := verify.ErrorCode(p.err); got != tt.code {
				t.Fatalf("code = %d, want %d (err %v)", got, tt.code, p.err)
			}
			if msg := verify.ErrorMessage(p.err); !strings.Contains(msg, tt.name) {
				t.Errorf("message %q does not name %s", msg, tt.name)
			}
		})
	}
}

func TestReadParams(t *testing.T) {
	t.Run("GET reads the query, ignores a form Content-Type", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/v2/Services?PageSize=2&X=a;b", nil)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p, err := readParams(r, verify.EInvalidParam)
		if err != nil {
			t.Fatal(err)
		}
		if v := p.str("X"); v == nil || *v != "a;b" {
			t.Errorf("X = %v", v)
		}
	})
	t.Run("POST without Content-Type", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/v2/Services", strings.NewReader("FriendlyName=a"))
		p, err := readParams(r, verify.EInvalidParam)
		if err != nil {
			t.Fatal(err)
		}
		if v := p.str("FriendlyName"); v == nil || *v != "a" {
			t.Errorf("FriendlyName = %v", v)
		}
	})
	bad := []struct {
		name, ct, body string
	}{
		{"JSON body", "application/json", `{"FriendlyName":"a"}`},
		{"too large", "application/x-www-form-urlencoded; charset=utf-8", "A=" + strings.Repeat("x", maxBody)},
		{"bad escape", "application/x-www-form-urlencoded", "A=%x"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v2/Services", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ct)
			_, err := readParams(r, verify.EInvalidParam)
			if got := verify.ErrorCode(err); got != verify.EInvalidParam {
				t.Fatalf("code = %d, want %d (err %v)", got, verify.EInvalidParam, err)
			}
		})
	}
}
