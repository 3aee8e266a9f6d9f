package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testAttempts: the Attempts list, fetch and summary see only their
// account's attempts, with their verification's state; the prune deletes
// released verifications past the retention with their attempts, and
// never a live one.
func testAttempts(t *testing.T, db *DB) {
	f, g := setup(t, db), setup(t, db)
	done := f.newVerification("+14155552671")
	live := f.newVerification("+14155552672")
	theirs := g.newVerification("+14155552671")
	if err := db.SetVerificationStatus(f.ctx, done.Sid, verify.VerificationApproved, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	items, more, err := db.ListAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{}, verify.Page{Size: 10, Desc: true})
	if err != nil || more || len(items) != 2 {
		t.Fatalf("list: %d, %v, %v", len(items), more, err)
	}
	for _, a := range items {
		if a.AccountSid != f.account.Sid || a.CodeLength != 6 || a.ExpiresAt.IsZero() {
			t.Errorf("attempt %+v", a)
		}
	}
	conv := true
	items, _, err = db.ListAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{Converted: &conv}, verify.Page{Size: 10})
	if err != nil || len(items) != 1 || items[0].VerificationSid != done.Sid || items[0].VerificationStatus != verify.VerificationApproved ||
		items[0].StatusAt(t0) != verify.AttemptConfirmed {
		t.Fatalf("converted: %+v, %v", items, err)
	}
	if _, err := db.FindAttempt(f.ctx, f.account.Sid, theirs.Attempts[0].Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("another account's attempt: %v", err)
	}
	a, err := db.FindAttempt(f.ctx, f.account.Sid, live.Attempts[0].Sid)
	if err != nil || a.StatusAt(t0) != verify.AttemptUnconfirmed || a.StatusAt(live.ExpiresAt) != verify.AttemptExpired {
		t.Fatalf("find: %+v, %v", a, err)
	}
	sum, err := db.SummarizeAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{Prefix: "+1415"})
	if err != nil || sum != (verify.AttemptSummary{Total: 2, Converted: 1}) || sum.Rate() != "50" {
		t.Fatalf("summary: %+v %s, %v", sum, sum.Rate(), err)
	}
	// The approved one is released; the live one is not, however old.
	if n, err := db.PruneVerifications(f.ctx, t0, 100); err != nil || n != 0 {
		t.Fatalf("pruned %d made before t0, %v", n, err)
	}
	if n, err := db.PruneVerifications(f.ctx, t0.Add(31*24*time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("pruned %d, want 1, %v", n, err)
	}
	if _, err := db.FindVerification(f.ctx, f.service.Sid, done.Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("the approved verification survived: %v", err)
	}
	if _, err := db.FindAttempt(f.ctx, f.account.Sid, done.Attempts[0].Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("its attempt survived: %v", err)
	}
	if _, err := db.FindVerification(f.ctx, f.service.Sid, live.Sid); err != nil {
		t.Fatalf("a live verification was pruned: %v", err)
	}
	if _, err := db.FindAttempt(g.ctx, g.account.Sid, theirs.Attempts[0].Sid); err != nil {
		t.Fatalf("the other account's live verification was pruned: %v", err)
	}
}

// verificationAt stores a verification of svc to to whose sends are one
// attempt per time in at, each on channel from country.
func (f *fixture) verificationAt(svc *verify.Service, to, channel, country string, at ...time.Time) *verify.Verification {
	f.t.Helper()
	sid := newSid(f.t, "VE")
	v := &verify.Verification{Sid: sid, AccountSid: f.account.Sid, ServiceSid: svc.Sid, To: to, Key: to,
		Channel: channel, Status: verify.VerificationPending, CodeHash: []byte("hash"), CodeLength: 6, Sends: len(at),
		ExpiresAt: at[0].Add(10 * time.Minute), DateCreated: at[0], DateUpdated: at[len(at)-1]}
	for _, t := range at {
		a := f.attempt(sid, to)
		a.ServiceSid, a.Channel, a.Country, a.DateCreated, a.DateUpdated = svc.Sid, channel, country, t, t
		v.Attempts = append(v.Attempts, a)
	}
	if err := f.db.CreateVerification(f.ctx, v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

// testAttemptFilters: the Attempts list pages newest first, ties in the
// second broken by SID, forwards and back; every filter narrows it (the
// date bounds inclusive), and the summary counts with the same filters.
// The prune is not held up by live verifications with older attempts.
func testAttemptFilters(t *testing.T, db *DB) {
	f, g := setup(t, db), setup(t, db)
	other := f.newService(t0)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	us := f.verificationAt(f.service, "+14155552671", "sms", "US", sec(1), sec(2))
	gb := f.verificationAt(f.service, "+447400123456", "sms", "GB", sec(2))
	mail := f.verificationAt(other, "user@example.com", "email", "", sec(3))
	de := f.verificationAt(other, "+4915112345678", "whatsapp", "DE", sec(4))
	g.verificationAt(g.service, "+14155552671", "sms", "US", sec(2))
	if err := db.SetVerificationStatus(f.ctx, us.Sid, verify.VerificationApproved, sec(5)); err != nil {
		t.Fatal(err)
	}
	all := []*verify.SendAttempt{de.Attempts[0], mail.Attempts[0], us.Attempts[1], gb.Attempts[0], us.Attempts[0]}
	if all[2].Sid < all[3].Sid { // the same second: the greater SID first
		all[2], all[3] = all[3], all[2]
	}
	sids := func(items []*verify.Attempt) []verify.Sid {
		out := []verify.Sid{}
		for _, a := range items {
			out = append(out, a.Sid)
		}
		return out
	}
	want := sids(nil)
	for _, a := range all {
		want = append(want, a.Sid)
	}

	// Pages of two, forwards, then the previous page from the last.
	var got []verify.Sid
	var pages [][]*verify.Attempt
	p := verify.Page{Size: 2, Desc: true}
	for {
		items, more, err := db.ListAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, items)
		got = append(got, sids(items)...)
		if !more {
			break
		}
		last := items[len(items)-1]
		p.After = &verify.Cursor{Time: last.DateCreated, Sid: last.Sid}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(pages) != 3 {
		t.Fatalf("pages %v, want %v in 3 pages", got, want)
	}
	first := pages[2][0]
	prev, more, err := db.ListAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{},
		verify.Page{Size: 2, Desc: true, Before: &verify.Cursor{Time: first.DateCreated, Sid: first.Sid}})
	if err != nil || !more || fmt.Sprint(sids(prev)) != fmt.Sprint(want[2:4]) {
		t.Fatalf("previous page %v, %v, %v; want %v", sids(prev), more, err, want[2:4])
	}

	yes, no := true, false
	at := func(n int) *time.Time { t := sec(n); return &t }
	for _, tc := range []struct {
		name string
		f    verify.AttemptFilter
		want []verify.Sid
	}{
		{"after", verify.AttemptFilter{After: at(3)}, want[:2]},
		{"before", verify.AttemptFilter{Before: at(2)}, want[2:]},
		{"both bounds", verify.AttemptFilter{After: at(2), Before: at(2)}, want[2:4]},
		{"to", verify.AttemptFilter{To: "+14155552671"}, []verify.Sid{us.Attempts[1].Sid, us.Attempts[0].Sid}},
		{"country", verify.AttemptFilter{Country: "GB"}, []verify.Sid{gb.Attempts[0].Sid}},
		{"channel", verify.AttemptFilter{Channel: "whatsapp"}, []verify.Sid{de.Attempts[0].Sid}},
		{"service", verify.AttemptFilter{Service: other.Sid}, want[:2]},
		{"verification", verify.AttemptFilter{Verification: us.Sid}, []verify.Sid{us.Attempts[1].Sid, us.Attempts[0].Sid}},
		{"converted", verify.AttemptFilter{Converted: &yes}, []verify.Sid{us.Attempts[1].Sid, us.Attempts[0].Sid}},
		{"unconverted", verify.AttemptFilter{Converted: &no}, []verify.Sid{de.Attempts[0].Sid, mail.Attempts[0].Sid, gb.Attempts[0].Sid}},
		{"several", verify.AttemptFilter{Service: f.service.Sid, Channel: "sms", Converted: &no}, []verify.Sid{gb.Attempts[0].Sid}},
		{"none", verify.AttemptFilter{Country: "FR"}, []verify.Sid{}},
	} {
		items, _, err := db.ListAttempts(f.ctx, f.account.Sid, tc.f, verify.Page{Size: 10, Desc: true})
		if err != nil || fmt.Sprint(sids(items)) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, sids(items), err, tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		f    verify.AttemptFilter
		want verify.AttemptSummary
		rate string
	}{
		{"all", verify.AttemptFilter{}, verify.AttemptSummary{Total: 5, Converted: 2}, "40"},
		{"service", verify.AttemptFilter{Service: f.service.Sid}, verify.AttemptSummary{Total: 3, Converted: 2}, "66.666666667"},
		{"prefix", verify.AttemptFilter{Prefix: "+4"}, verify.AttemptSummary{Total: 2}, "0"},
		{"prefix and country", verify.AttemptFilter{Prefix: "+1", Country: "US"}, verify.AttemptSummary{Total: 2, Converted: 2}, "100"},
		{"dates", verify.AttemptFilter{After: at(2), Before: at(3)}, verify.AttemptSummary{Total: 3, Converted: 1}, "33.333333333"},
		{"channel", verify.AttemptFilter{Channel: "email"}, verify.AttemptSummary{Total: 1}, "0"},
		{"none", verify.AttemptFilter{After: at(60)}, verify.AttemptSummary{}, ""},
	} {
		sum, err := db.SummarizeAttempts(f.ctx, f.account.Sid, tc.f)
		if err != nil || sum != tc.want || sum.Rate() != tc.rate {
			t.Errorf("summary %s: %+v %q, %v; want %+v %q", tc.name, sum, sum.Rate(), err, tc.want, tc.rate)
		}
	}

	// A live verification whose sends are older than all the others is
	// never pruned and does not hold up the released ones, one a batch.
	old := f.verificationAt(f.service, "+14155550000", "sms", "US", sec(-3), sec(-2), sec(-1))
	if err := db.SetVerificationStatus(f.ctx, gb.Sid, verify.VerificationCanceled, sec(5)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 1, 0} {
		if n, err := db.PruneVerifications(f.ctx, sec(3600), 1); err != nil || n != want {
			t.Fatalf("prune %d: %d, %v; want %d", i, n, err, want)
		}
	}
	left, _, err := db.ListAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{}, verify.Page{Size: 10, Desc: true})
	if err != nil || len(left) != 5 || left[4].VerificationSid != old.Sid || left[0].Sid != de.Attempts[0].Sid {
		t.Fatalf("after the prune: %v, %v", sids(left), err)
	}
}

// testReady: a migrated database is ready; one missing a migration says
// which it is at.
func testReady(t *testing.T, db *DB) {
	f := setup(t, db)
	if err := db.Ready(f.ctx); err != nil {
		t.Fatalf("migrated database: %v", err)
	}
	var top int
	if err := db.queryRow(f.ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&top); err != nil {
		t.Fatal(err)
	}
	if _, err := db.exec(f.ctx, `DELETE FROM schema_migrations WHERE version = ?`, top); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(f.ctx); err == nil || !strings.Contains(err.Error(), "of "+strconv.Itoa(top)) {
		t.Fatalf("a migration short: %v", err)
	}
}
