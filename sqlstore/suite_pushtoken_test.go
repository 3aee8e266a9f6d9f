package sqlstore

import (
	"strings"
	"testing"
)

// testPushTokenDead: KillPushToken is a compare-and-swap on the token; a
// dead token stays dead through an update that sends it again, and a
// different token is live again.
func testPushTokenDead(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	push := f.newPush(f.entity, t0)
	token := push.Push.NotificationToken
	dead := func(want bool) {
		t.Helper()
		got, err := db.FindFactor(ctx, f.entity.Sid, push.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Push.TokenDead != want || !got.DateUpdated.Equal(push.DateUpdated) {
			t.Fatalf("TokenDead %v, DateUpdated %v: want %v, %v", got.Push.TokenDead, got.DateUpdated, want, push.DateUpdated)
		}
	}
	dead(false)
	if ok, err := db.KillPushToken(ctx, push.Sid, strings.Repeat("b", 64)); ok || err != nil {
		t.Fatalf("kill with another token: %v, %v", ok, err)
	}
	dead(false)
	if ok, err := db.KillPushToken(ctx, push.Sid, token); !ok || err != nil {
		t.Fatalf("kill: %v, %v", ok, err)
	}
	dead(true)
	if ok, err := db.KillPushToken(ctx, push.Sid, token); ok || err != nil {
		t.Fatalf("kill again: %v, %v", ok, err)
	}
	if err := db.UpdateFactor(ctx, push); err != nil { // the same token
		t.Fatal(err)
	}
	dead(true)
	push.Push.NotificationToken = strings.Repeat("c", 64)
	if err := db.UpdateFactor(ctx, push); err != nil {
		t.Fatal(err)
	}
	dead(false)
	if ok, err := db.KillPushToken(ctx, newSid(t, "YF"), token); ok || err != nil {
		t.Fatalf("kill on a missing factor: %v, %v", ok, err)
	}
}
