package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

// TestCodeKeys: a generated code is digits of the asked length, derived
// again only by a key whose hash matches; a code delivery opens with the
// key that sealed it (also as a previous key after a rotation), and not
// with another attempt SID or a stranger's key.
func TestCodeKeys(t *testing.T) {
	old := &Verifier{TokenKey: bytes.Repeat([]byte{1}, 32), Rand: rand.Reader}
	sid := Sid("VE" + strings.Repeat("ab", 16))
	k := old.codeKeys()[0]
	for _, n := range []int{4, 6, 10} {
		code := deriveCode(k, sid, n)
		if len(code) != n || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("code %q of length %d", code, n)
		}
	}
	other := deriveCode(k, Sid("VE"+strings.Repeat("cd", 16)), 10)
	if other == deriveCode(k, sid, 10) {
		t.Error("two SIDs derived the same 10-digit code")
	}
	ver := &Verification{Sid: sid, CodeLength: 6}
	ver.CodeHash = codeHash(k, sid, deriveCode(k, sid, 6))
	if right := deriveCode(k, sid, 6); !old.matchCode(ver, right) || old.matchCode(ver, right[:5]+string(rune((right[5]-'0'+1)%10+'0'))) {
		t.Error("matchCode")
	}
	rotated := &Verifier{TokenKey: bytes.Repeat([]byte{2}, 32), PreviousTokenKeys: [][]byte{old.TokenKey}, Rand: rand.Reader}
	if code, err := rotated.resendCode(ver); err != nil || code != deriveCode(k, sid, 6) {
		t.Errorf("resend after rotation: %q %v", code, err)
	}
	if !rotated.matchCode(ver, deriveCode(k, sid, 6)) {
		t.Error("a code made before the rotation no longer matches")
	}
	stranger := &Verifier{TokenKey: bytes.Repeat([]byte{3}, 32), Rand: rand.Reader}
	if _, err := stranger.resendCode(ver); err == nil {
		t.Error("a stranger's key derived the code")
	}

	d := &CodeDelivery{AttemptSid: "VL" + Sid(strings.Repeat("01", 16)), VerificationSid: sid, Code: "482913",
		Text: "Your Shop verification code is: 482913.", EmailVars: map[string]string{"twilio_code": "482913"}}
	payload, err := old.sealDelivery(d)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(payload, []byte("482913")) {
		t.Fatal("the payload holds the code in clear")
	}
	for _, v := range []*Verifier{old, rotated} {
		got, err := v.OpenCodeDelivery(payload)
		if err != nil || got.Code != "482913" || got.Text != d.Text || got.EmailVars["twilio_code"] != "482913" || got.VerificationSid != sid {
			t.Fatalf("open: %+v %v", got, err)
		}
	}
	if _, err := stranger.OpenCodeDelivery(payload); err == nil {
		t.Error("a stranger's key opened the code")
	}
	moved := bytes.Replace(payload, []byte(d.AttemptSid), []byte("VL"+strings.Repeat("02", 16)), 1)
	if _, err := old.OpenCodeDelivery(moved); err == nil {
		t.Error("the sealed code opened under another attempt SID")
	}
}

// TestSubkeyMemo: a remembered subkey is HMAC(key, label), per key and
// label, and the memo stays within maxSubkeys however many keys come.
func TestSubkeyMemo(t *testing.T) {
	want := func(key []byte, label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	for range 2 { // computed, then remembered
		for _, k := range [][]byte{a, b} {
			for _, l := range []string{codeHashLabel, rateKeyLabel} {
				if got := subkey(k, l); !bytes.Equal(got, want(k, l)) {
					t.Fatalf("subkey(%x, %q) = %x", k, l, got)
				}
			}
		}
	}
	for i := range 3 * maxSubkeys {
		k := []byte(fmt.Sprintf("key %d of many, long enough to be one", i))
		if got := subkey(k, codeSealLabel); !bytes.Equal(got, want(k, codeSealLabel)) {
			t.Fatalf("key %d: %x", i, got)
		}
		subkeys.mu.RLock()
		n := subkeys.n
		subkeys.mu.RUnlock()
		if n > maxSubkeys {
			t.Fatalf("%d subkeys remembered", n)
		}
	}
}
