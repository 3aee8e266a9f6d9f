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
		})
	}
}
