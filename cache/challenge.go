package cache

import (
	"context"

	"github.com/verifyd/verify"
)

// Challenges are cached only when this process is the database's one
// writer (SQLite). A push challenge is read two or three times in its short
// life: the phone fetches it, answers it, and the backend polls it. On a
// shared database another node may answer it, and a backend polling here
// must see that at once, which a cache that learns of it only by expiry
// would not give.
//
// A cached challenge is created here or read here, and dropped by every
// write here that changes it. The sweep's ExpireChallenges does not drop
// anything: it only stores "expired" on pending challenges past their
// expiration date, which Challenge.StatusAt already reads as expired.

// CreateChallenge remembers a challenge it created, for the reads that
// follow. Inside a transaction (a TOTP challenge with its code) nothing is
// remembered: such challenges are rarely read again.
func (s *Store) CreateChallenge(ctx context.Context, c *verify.Challenge) error {
	gen := s.c.generation(&s.c.bChallenges)
	if err := s.Store.CreateChallenge(ctx, c); err != nil {
		return err
	}
	if s.c.challenges != nil {
		put(s.c, s.c.challenges, &s.c.bChallenges, c.Sid, cloneChallenge(c), gen)
	}
	return nil
}

// FindChallenge answers from memory when the cached challenge belongs to
// entity; otherwise the store answers, with its own not-found.
func (s *Store) FindChallenge(ctx context.Context, entity, sid verify.Sid) (*verify.Challenge, error) {
	if s.c.challenges == nil {
		return s.Store.FindChallenge(ctx, entity, sid)
	}
	return through(s.c, s.c.challenges, &s.c.bChallenges, sid, cloneChallenge,
		func(c *verify.Challenge) bool { return c.EntitySid == entity },
		func() (*verify.Challenge, error) { return s.Store.FindChallenge(ctx, entity, sid) })
}
