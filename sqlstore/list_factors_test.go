package sqlstore

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestListFactorsMatchesFind checks that ListFactors, which reads fewer
// columns than FindFactor and scans them its own way, returns every factor
// exactly as FindFactor does without its secret and last used step, in
// keyset order, on every page size and in both directions, on every
// backend; and that TotpLastUsed returns the steps the list leaves out.
func TestListFactorsMatchesFind(t *testing.T) {
	for _, b := range verifytest.Backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			db := mustOpenFile(t, verifytest.DSN(t, b), testKey)
			f := setup(t, db)
			other := f.newEntity(f.service, "user-other", t0)
			f.newTotp(other, t0) // another entity's factor never shows

			var all []*verify.Factor
			for i := range 23 {
				created := t0.Add(time.Duration(i/4) * time.Second) // ties on date_created: sid decides
				var fa *verify.Factor
				switch i % 3 {
				case 0:
					fa = f.newPush(f.entity, created)
				case 1:
					fa = f.newTotp(f.entity, created)
				case 2:
					fa = f.listOddFactor(created, i)
				}
				all = append(all, fa)
			}
			// Columns the create leaves at their defaults, set the way the server sets them.
			if ok, err := db.UseTotpStep(f.ctx, all[1].Sid, 1000, 1030); err != nil || !ok {
				t.Fatal(ok, err)
			}
			if _, err := db.TakeFactorAttempt(f.ctx, all[4].Sid, 5); err != nil {
				t.Fatal(err)
			}
			// A factor of another entity that used a step never shows.
			if ok, err := db.UseTotpStep(f.ctx, f.newTotp(other, t0).Sid, 1000, 1060); err != nil || !ok {
				t.Fatal(ok, err)
			}
			used, err := db.TotpLastUsed(f.ctx, f.entity.Sid)
			if err != nil {
				t.Fatal(err)
			}
			if len(used) != 1 || used[all[1].Sid] != 1030 {
				t.Errorf("TotpLastUsed = %v, want only %s: 1030", used, all[1].Sid)
			}
			for i, fa := range all { // the stored rows, as FindFactor reads them
				got, err := db.FindFactor(f.ctx, f.entity.Sid, fa.Sid)
				if err != nil {
					t.Fatal(err)
				}
				all[i] = listed(got)
			}
			if all[1].Totp.LastUsedEnd != 0 || all[4].FailedAttempts != 1 {
				t.Fatalf("fixture: %+v, %d failed attempts", all[1].Totp, all[4].FailedAttempts)
			}
			slices.SortFunc(all, func(a, b *verify.Factor) int {
				if c := a.DateCreated.Compare(b.DateCreated); c != 0 {
					return c
				}
				return compareSids(a.Sid, b.Sid)
			})
			desc := slices.Clone(all)
			slices.Reverse(desc)

			for _, size := range []int{1, 3, 7, 50, 1000} {
				for _, want := range [][]*verify.Factor{all, desc} {
					isDesc := len(want) > 1 && want[0] == desc[0]
					// Forward from the start to the end, then back from the end.
					var got []*verify.Factor
					p := verify.Page{Size: size, Desc: isDesc}
					for {
						items, more, err := db.ListFactors(f.ctx, f.entity.Sid, p)
						if err != nil {
							t.Fatal(err)
						}
						got = append(got, items...)
						if !more {
							break
						}
						last := items[len(items)-1]
						p.After = &verify.Cursor{Time: last.DateCreated, Sid: last.Sid}
					}
					wantEqual(t, want, got)

					var back []*verify.Factor
					// A cursor one second past the last item in list order.
					last, past := want[len(want)-1], time.Second
					if isDesc {
						past = -past
					}
					p = verify.Page{Size: size, Desc: isDesc, Before: &verify.Cursor{Time: last.DateCreated.Add(past), Sid: last.Sid}}
					for {
						items, more, err := db.ListFactors(f.ctx, f.entity.Sid, p)
						if err != nil {
							t.Fatal(err)
						}
						back = append(slices.Clone(items), back...)
						if !more {
							break
						}
						p.Before = &verify.Cursor{Time: items[0].DateCreated, Sid: items[0].Sid}
					}
					wantEqual(t, want, back)
				}
			}
		})
	}
}

// listOddFactor creates a verified TOTP factor with what the fixture's
// factors lack: metadata with unicode and quotes, another algorithm and
// sizes, a long name.
func (f *fixture) listOddFactor(created time.Time, i int) *verify.Factor {
	f.t.Helper()
	fa := &verify.Factor{
		Sid: newSid(f.t, verify.PrefixFactor), AccountSid: f.entity.AccountSid, ServiceSid: f.entity.ServiceSid,
		EntitySid: f.entity.Sid, Identity: f.entity.Identity, FriendlyName: "Ünïcødé \"phone\" ✓ " + string(rune('a'+i)),
		Type: verify.FactorTotp, Status: verify.FactorVerified,
		Metadata: map[string]string{"os": "Android", "ü": "\"\\\n", "": ""},
		Totp: &verify.TotpFactor{
			Secret: []byte("another secret"), Alg: "sha512", CodeLength: 8, TimeStep: 60, Skew: 2,
		},
		DateCreated: created, DateUpdated: created.Add(time.Hour),
	}
	if err := f.db.CreateFactor(f.ctx, fa); err != nil {
		f.t.Fatal(err)
	}
	return fa
}

// compareSids orders SIDs as both databases do: bytewise, SQLite's BINARY
// collation. These SIDs share their prefix and go on in lower-case hex,
// which PostgreSQL's collations order the same way.
func compareSids(a, b verify.Sid) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// listed is f as a list returns it: without its TOTP secret and last used
// step.
func listed(f *verify.Factor) *verify.Factor {
	c := withoutSecret(f)
	if c.Totp != nil {
		c.Totp.LastUsedEnd = 0
	}
	return c
}

// TestFactorListCovered checks that on SQLite a page of a factor list,
// first or next, reads only the index it ranges over (migration 0021),
// in its order, never the table.
func TestFactorListCovered(t *testing.T) {
	db := mustOpen(t)
	for _, where := range []string{"", " AND (date_created, sid) > (?, ?)", " AND (date_created, sid) < (?, ?)"} {
		for _, dir := range []string{"ASC", "DESC"} {
			q := `EXPLAIN QUERY PLAN SELECT ` + factorListColumns + ` FROM factors WHERE entity_sid = ?` + where +
				` ORDER BY date_created ` + dir + `, sid ` + dir + ` LIMIT ?`
			args := []any{"YE1", 0, "YF1", 51}
			if where == "" {
				args = []any{"YE1", 51}
			}
			rows, err := db.rdb.Query(q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			if len(plan) != 1 || !strings.Contains(plan[0], "USING COVERING INDEX factors_entity_list (entity_sid=?") {
				t.Errorf("%s%s: plan %q, want one search of the covering index", where, dir, plan)
			}
		}
	}
}
