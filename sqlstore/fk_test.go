package sqlstore

import (
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestDeletedParentIsNotFound: a write that refers to a parent deleted after
// the caller looked it up (a race with another request or node) is
// ENotFound, not an internal error.
func TestDeletedParentIsNotFound(t *testing.T) {
	for _, b := range verifytest.Backends() {
		t.Run(string(b), func(t *testing.T) {
			db := mustOpenFile(t, verifytest.DSN(t, b), testKey)
			f := setup(t, db)
			fa := f.newTotp(f.entity, t0)
			if err := db.DeleteEntity(f.ctx, f.service.Sid, f.entity.Identity); err != nil {
				t.Fatal(err)
			}
			c := &verify.Challenge{
				Sid: newSid(t, verify.PrefixChallenge), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
				EntitySid: f.entity.Sid, Identity: f.entity.Identity, FactorSid: fa.Sid, FactorType: verify.FactorTotp,
				Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
				ExpirationDate: t0.Add(time.Minute), DateCreated: t0, DateUpdated: t0,
			}
			wantCode(t, db.CreateChallenge(f.ctx, c), verify.ENotFound)
			wantCode(t, db.Tx(f.ctx, func(st verify.Store) error { return st.CreateChallenge(f.ctx, c) }), verify.ENotFound)

			// The factor alone deleted, its entity still there: no foreign
			// key checks this on SQLite (migration 0003); the insert must.
			e := f.newEntity(f.service, "user-still-here", t0)
			gone := f.newTotp(e, t0)
			if err := db.DeleteFactor(f.ctx, e.Sid, gone.Sid); err != nil {
				t.Fatal(err)
			}
			c.Sid, c.EntitySid, c.Identity, c.FactorSid = newSid(t, verify.PrefixChallenge), e.Sid, e.Identity, gone.Sid
			wantCode(t, db.CreateChallenge(f.ctx, c), verify.ENotFound)
			wantCode(t, db.Tx(f.ctx, func(st verify.Store) error { return st.CreateChallenge(f.ctx, c) }), verify.ENotFound)
			// A factor of another entity does not do either.
			other := f.newTotp(f.newEntity(f.service, "user-other-one", t0), t0)
			c.FactorSid = other.Sid
			wantCode(t, db.CreateChallenge(f.ctx, c), verify.ENotFound)
			if n := countRows(t, db, "challenges", "entity_sid = ?", string(e.Sid)); n != 0 {
				t.Errorf("%d challenges stored for factors that are not the entity's", n)
			}
		})
	}
}
