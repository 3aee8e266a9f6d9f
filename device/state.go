package device

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// State is what the SDK keeps on the phone for one push factor (its
// factor record, the key pair and the timeCorrection preference), in a
// file so that a script can enroll once and answer challenges later. It
// holds a private key: Save writes it with mode 0600.
type State struct {
	BaseURL              string            `json:"base_url"` // ends in "/v2/"
	ServiceSid           string            `json:"service_sid"`
	Identity             string            `json:"identity"`
	FactorSid            string            `json:"factor_sid"`
	AccountSid           string            `json:"account_sid"`    // the device JWT's sub
	CredentialSid        string            `json:"credential_sid"` // the device JWT's kid
	FriendlyName         string            `json:"friendly_name"`
	Status               string            `json:"status"` // unverified | verified
	NotificationPlatform string            `json:"notification_platform"`
	DateCreated          string            `json:"date_created,omitempty"`
	Metadata             map[string]string `json:"metadata,omitempty"`
	PrivateKey           string            `json:"private_key"` // PKCS#8 DER, standard base64
	// ClockCorrection is server time minus device time in seconds, learnt
	// from the Date header of a 401 and added to every later device JWT.
	ClockCorrection int64 `json:"clock_correction"`
}

// Key decodes the factor's P-256 private key.
func (s *State) Key() (*ecdsa.PrivateKey, error) {
	if s == nil || s.PrivateKey == "" {
		return nil, ErrNotEnrolled
	}
	der, err := base64.StdEncoding.DecodeString(s.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("state: private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("state: private key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("state: private key is not ECDSA")
	}
	return ec, nil
}

// setKey stores k as PKCS#8.
func (s *State) setKey(k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	s.PrivateKey = base64.StdEncoding.EncodeToString(der)
	return nil
}

// Load reads a state file written by Save.
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return &s, nil
}

// Save writes s to path with mode 0600, through a temporary file and a
// rename, so that a crash never leaves a half-written key behind and the
// key is never readable by others, not even briefly.
func (s *State) Save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
