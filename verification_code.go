package verify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// A verification's code is never stored. The row keeps a keyed hash of it
// (codeHash), which a check compares in constant time; a re-send, which
// must deliver the same code, derives a generated code again from the key
// and the verification's SID (deriveCode): HMAC-SHA256 under a key the
// database does not hold is a pseudo-random function, so the code is as
// unpredictable as one drawn from crypto/rand, and a copy of the database
// (or of its backups) holds nothing that gives a pending code away. The
// one place a code travels is the outbox row that delivers it, sealed
// with AES-GCM under a key derived the same way (sealDelivery) until the
// worker opens it to send.
//
// The keys derive from TokenKey, itself derived from the master key, so a
// master key rotation moves them with it: PreviousTokenKeys still open
// and match what an older key made (codeKeys).

// codeKeySet is the code keys derived from one token key.
type codeKeySet struct {
	hash, derive, seal []byte
}

// Labels of the code keys, distinct from every other use of TokenKey.
const (
	codeHashLabel   = "verifyd verification code hash"
	codeDeriveLabel = "verifyd verification code derive"
	codeSealLabel   = "verifyd verification code seal"
)

// subkey is HMAC(key, label): a key for one use, derived from TokenKey or
// a previous key. Every create and check derives several, so they are
// remembered (subkeys): each derivation was about a microsecond and a
// dozen allocations.
func subkey(key []byte, label string) []byte {
	return subkeys.get(key, label)
}

// subkeys remembers derived keys by label, then key. The keys are a
// server's TokenKey and its previous keys, and the labels are constants,
// so it stays small; maxSubkeys bounds it all the same (tests make many
// Verifiers), by starting over when it is full. Callers never modify
// what it returns.
var subkeys = subkeyMemo{m: make(map[string]map[string][]byte)}

const maxSubkeys = 256

type subkeyMemo struct {
	mu sync.RWMutex
	m  map[string]map[string][]byte // label -> key -> subkey
	n  int
}

func (s *subkeyMemo) get(key []byte, label string) []byte {
	s.mu.RLock()
	d, ok := s.m[label][string(key)]
	s.mu.RUnlock()
	if ok {
		return d
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	d = m.Sum(nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= maxSubkeys {
		s.m, s.n = make(map[string]map[string][]byte), 0
	}
	if s.m[label] == nil {
		s.m[label] = make(map[string][]byte)
	}
	if _, ok := s.m[label][string(key)]; !ok {
		s.m[label][string(key)] = d
		s.n++
	}
	return d
}

// codeKeys returns the key sets of TokenKey and of each previous key, the
// current one first.
func (v *Verifier) codeKeys() []codeKeySet {
	all := append([][]byte{v.TokenKey}, v.PreviousTokenKeys...)
	sets := make([]codeKeySet, len(all))
	for i, k := range all {
		sets[i] = codeKeySet{subkey(k, codeHashLabel), subkey(k, codeDeriveLabel), subkey(k, codeSealLabel)}
	}
	return sets
}

// codeHash is the stored hash of code for verification sid.
func codeHash(k codeKeySet, sid Sid, code string) []byte {
	m := hmac.New(sha256.New, k.hash)
	m.Write([]byte(sid))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// deriveCode returns the generated code of verification sid: length
// digits, each uniform (rand.IntN rejects rather than reduce modulo 10),
// drawn from a ChaCha8 stream seeded with an HMAC of the SID.
func deriveCode(k codeKeySet, sid Sid, length int) string {
	m := hmac.New(sha256.New, k.derive)
	m.Write([]byte(sid))
	var seed [32]byte
	copy(seed[:], m.Sum(nil))
	r := rand.New(rand.NewChaCha8(seed))
	b := make([]byte, length)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// matchCode reports, in constant time for each key, whether code is the
// code of ver.
func (v *Verifier) matchCode(ver *Verification, code string) bool {
	ok := false
	for _, k := range v.codeKeys() {
		if hmac.Equal(codeHash(k, ver.Sid, code), ver.CodeHash) {
			ok = true
		}
	}
	return ok
}

// resendCode returns the generated code of ver again: the code of the key
// whose hash matches it. It fails if none does (the key that made it was
// dropped from the rotation).
func (v *Verifier) resendCode(ver *Verification) (string, error) {
	for _, k := range v.codeKeys() {
		code := deriveCode(k, ver.Sid, ver.CodeLength)
		if hmac.Equal(codeHash(k, ver.Sid, code), ver.CodeHash) {
			return code, nil
		}
	}
	return "", fmt.Errorf("verify: the code of %s was made with a key this server no longer has", ver.Sid)
}

// CodeDelivery is the outbox payload of one send of a code (kind
// OutboxCode): everything a sender needs, frozen at the time of the send.
// Code, Text and EmailVars carry the code: on the wire they are sealed
// into Sealed, and only OpenCodeDelivery brings them back.
type CodeDelivery struct {
	AttemptSid      Sid    `json:"attempt_sid"`
	VerificationSid Sid    `json:"verification_sid"`
	ServiceSid      Sid    `json:"service_sid"`
	AccountSid      Sid    `json:"account_sid"`
	Channel         string `json:"channel"`
	To              string `json:"to"`
	Country         string `json:"country"`
	Locale          string `json:"locale"`
	FriendlyName    string `json:"friendly_name"`
	// From is the WhatsApp sender of the service, or empty.
	From                string            `json:"from,omitempty"`
	MessagingServiceSid string            `json:"messaging_service_sid,omitempty"`
	TTLSeconds          int               `json:"ttl_seconds"`
	ExpiresAt           time.Time         `json:"expires_at"`
	CreatedAt           time.Time         `json:"created_at"`
	AppHash             string            `json:"app_hash,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
	Voice               *CodeVoice        `json:"voice,omitempty"`
	Email               *CodeEmail        `json:"email,omitempty"`
	Sealed              []byte            `json:"sealed"`

	Code string `json:"-"`
	// Text is the SMS or WhatsApp body, or the call's speech script.
	Text string `json:"-"`
	// EmailVars are the e-mail template's variables (twilio_code, …).
	EmailVars map[string]string `json:"-"`
}

// CodeVoice are the options of a call.
type CodeVoice struct {
	SendDigits      string `json:"send_digits,omitempty"`
	RequireKeypress bool   `json:"require_keypress"`
	TTSVoice        string `json:"tts_voice,omitempty"`
}

// CodeEmail are the e-mail options of ChannelConfiguration.
type CodeEmail struct {
	From       string `json:"from,omitempty"`
	FromName   string `json:"from_name,omitempty"`
	TemplateID string `json:"template_id,omitempty"`
}

// sealedContent is what Sealed holds.
type sealedContent struct {
	Code      string            `json:"code"`
	Text      string            `json:"text"`
	EmailVars map[string]string `json:"email_vars,omitempty"`
}

// sealDelivery returns d as an outbox payload, its code sealed under the
// current key with the attempt SID as additional data, so that a sealed
// blob moved to another row does not open.
func (v *Verifier) sealDelivery(d *CodeDelivery) ([]byte, error) {
	plain, err := json.Marshal(sealedContent{Code: d.Code, Text: d.Text, EmailVars: d.EmailVars})
	if err != nil {
		return nil, err
	}
	aead, err := gcm(v.codeKeys()[0].seal)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(v.Rand, nonce); err != nil {
		return nil, fmt.Errorf("verify: seal a code: %w", err)
	}
	c := *d
	c.Sealed = aead.Seal(nonce, nonce, plain, []byte(d.AttemptSid))
	return json.Marshal(&c)
}

// OpenCodeDelivery reads an outbox payload of kind OutboxCode and opens
// its code with whichever key sealed it. The delivery worker calls it;
// nothing else should.
func (v *Verifier) OpenCodeDelivery(payload []byte) (*CodeDelivery, error) {
	var d CodeDelivery
	if err := json.Unmarshal(payload, &d); err != nil {
		return nil, fmt.Errorf("verify: read a code delivery: %w", err)
	}
	for _, k := range v.codeKeys() {
		aead, err := gcm(k.seal)
		if err != nil {
			return nil, err
		}
		if len(d.Sealed) < aead.NonceSize() {
			break
		}
		plain, err := aead.Open(nil, d.Sealed[:aead.NonceSize()], d.Sealed[aead.NonceSize():], []byte(d.AttemptSid))
		if err != nil {
			continue
		}
		var c sealedContent
		if err := json.Unmarshal(plain, &c); err != nil {
			return nil, fmt.Errorf("verify: read a sealed code: %w", err)
		}
		d.Code, d.Text, d.EmailVars, d.Sealed = c.Code, c.Text, c.EmailVars, nil
		return &d, nil
	}
	return nil, errors.New("verify: the code of a delivery does not open with any key of this server")
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
