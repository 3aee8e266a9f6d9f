package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

// Push credentials. The secret (verify.CredentialSecret as JSON) is sealed
// through the keyring exactly as a TOTP secret, with the credential SID as
// additional data, so a sealed value copied into another row does not open
// and rotate-key re-seals it (reseal.go). Only OpenPushCredential selects
// the column at all: a fetch or a list never reads the secret, so no bug
// above the store can put it in a response.

const credentialColumns = `sid, account_sid, friendly_name, type, sandbox, key_id, team_id, date_created, date_updated`

func scanCredential(sc scanner, extra ...any) (*verify.PushCredential, error) {
	c := &verify.PushCredential{}
	var sid, account, typ string
	var sandbox int
	var created, updated int64
	dst := append([]any{&sid, &account, &c.FriendlyName, &typ, &sandbox, &c.KeyID, &c.TeamID, &created, &updated}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	c.Sid, c.AccountSid, c.Type, c.Sandbox = verify.Sid(sid), verify.Sid(account), verify.CredentialType(typ), sandbox != 0
	c.DateCreated, c.DateUpdated = fromUnix(created), fromUnix(updated)
	return c, nil
}

func scanCredentialRow(sc scanner) (*verify.PushCredential, error) { return scanCredential(sc) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func credentialNotFound(sid verify.Sid) error {
	return verify.Errorf(verify.ENotFound, "The requested resource /Credentials/%s was not found", sid)
}

// sealCredential seals c's secret; the credential must carry one.
func (s *store) sealCredential(c *verify.PushCredential) ([]byte, error) {
	if c.Secret == nil {
		return nil, errors.New("no secret")
	}
	plain, err := json.Marshal(c.Secret)
	if err != nil {
		return nil, err
	}
	return s.seal(c.Sid, plain)
}

// CreatePushCredential stores a new credential with its sealed secret.
func (s *store) CreatePushCredential(ctx context.Context, c *verify.PushCredential) error {
	sealed, err := s.sealCredential(c)
	if err != nil {
		return fmt.Errorf("sqlstore: create credential %s: %w", c.Sid, err)
	}
	_, err = s.exec(ctx, `INSERT INTO push_credentials (`+credentialColumns+`, secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(c.Sid), string(c.AccountSid), c.FriendlyName, string(c.Type), boolInt(c.Sandbox), c.KeyID, c.TeamID,
		unix(c.DateCreated), unix(c.DateUpdated), sealed)
	if err != nil {
		if s.d.isForeignKey(err) {
			return verify.Errorf(verify.ENotFound, "Account %s was not found", c.AccountSid)
		}
		return fmt.Errorf("sqlstore: create credential %s: %w", c.Sid, err)
	}
	return nil
}

// FindPushCredential returns the account's credential without its secret,
// locking it inside a transaction.
func (s *store) FindPushCredential(ctx context.Context, account, sid verify.Sid) (*verify.PushCredential, error) {
	c, err := scanCredential(s.queryRow(ctx, `SELECT `+credentialColumns+` FROM push_credentials
WHERE sid = ? AND account_sid = ?`+s.lockRow(), string(sid), string(account)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, credentialNotFound(sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find credential %s: %w", sid, err)
	}
	return c, nil
}

// OpenPushCredential returns the credential, of any account, with its
// secret opened. A value that no key opens is an internal error: the
// message names the credential, never the secret.
func (s *store) OpenPushCredential(ctx context.Context, sid verify.Sid) (*verify.PushCredential, error) {
	var sealed []byte
	c, err := scanCredential(s.queryRow(ctx, `SELECT `+credentialColumns+`, secret FROM push_credentials
WHERE sid = ?`, string(sid)), &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, credentialNotFound(sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open credential %s: %w", sid, err)
	}
	plain, err := s.unseal(c.Sid, sealed)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open credential %s: %w", sid, err)
	}
	c.Secret = &verify.CredentialSecret{}
	if err := json.Unmarshal(plain, c.Secret); err != nil {
		return nil, fmt.Errorf("sqlstore: open credential %s: the opened secret is not JSON", sid)
	}
	return c, nil
}

// UpdatePushCredential stores every field of c, the secret sealed anew
// under the primary key.
func (s *store) UpdatePushCredential(ctx context.Context, c *verify.PushCredential) error {
	sealed, err := s.sealCredential(c)
	if err != nil {
		return fmt.Errorf("sqlstore: update credential %s: %w", c.Sid, err)
	}
	ok, err := s.execOne(ctx, `UPDATE push_credentials SET friendly_name = ?, sandbox = ?, key_id = ?, team_id = ?,
secret = ?, date_updated = ? WHERE sid = ? AND account_sid = ?`,
		c.FriendlyName, boolInt(c.Sandbox), c.KeyID, c.TeamID, sealed, unix(c.DateUpdated), string(c.Sid), string(c.AccountSid))
	if err != nil {
		return fmt.Errorf("sqlstore: update credential %s: %w", c.Sid, err)
	}
	if !ok {
		return credentialNotFound(c.Sid)
	}
	return nil
}

// DeletePushCredential deletes the account's credential.
func (s *store) DeletePushCredential(ctx context.Context, account, sid verify.Sid) error {
	ok, err := s.execOne(ctx, `DELETE FROM push_credentials WHERE sid = ? AND account_sid = ?`, string(sid), string(account))
	if err != nil {
		return fmt.Errorf("sqlstore: delete credential %s: %w", sid, err)
	}
	if !ok {
		return credentialNotFound(sid)
	}
	return nil
}

// ListPushCredentials pages through the account's credentials.
func (s *store) ListPushCredentials(ctx context.Context, account verify.Sid, p verify.Page) ([]*verify.PushCredential, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+credentialColumns+` FROM push_credentials`,
		[]string{"account_sid = ?"}, []any{string(account)}, p, scanCredentialRow)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list credentials of %s: %w", account, err)
	}
	return items, more, nil
}

// ServicesUsingCredential finds the account's services whose settings
// name the credential. The push SIDs live in the settings JSON (service.go),
// so the match is on the quoted SID in that text: a SID is 34 letters and
// digits and only the push settings hold CR SIDs, so it cannot match
// anything else; the settings are decoded to be sure all the same. The
// scan is per account and runs only when a credential is deleted.
func (s *store) ServicesUsingCredential(ctx context.Context, account, sid verify.Sid) ([]verify.Sid, error) {
	rows, err := s.query(ctx, `SELECT sid, settings FROM services WHERE account_sid = ? AND settings LIKE ? ORDER BY sid`,
		string(account), `%"`+string(sid)+`"%`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: services using %s: %w", sid, err)
	}
	defer rows.Close()
	var out []verify.Sid
	for rows.Next() {
		var svc, settings string
		if err := rows.Scan(&svc, &settings); err != nil {
			return nil, fmt.Errorf("sqlstore: services using %s: %w", sid, err)
		}
		var st serviceSettings
		if err := json.Unmarshal([]byte(settings), &st); err != nil {
			return nil, fmt.Errorf("sqlstore: service %s settings: %w", svc, err)
		}
		if st.PushApnCredentialSid == string(sid) || st.PushFcmCredentialSid == string(sid) {
			out = append(out, verify.Sid(svc))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: services using %s: %w", sid, err)
	}
	return out, nil
}
