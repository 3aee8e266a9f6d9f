package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testMessagingConfigurations: one configuration per service and country,
// also when creates race; an SMS's country wins over all; the list pages
// in creation order; the service's delete takes them along.
func testMessagingConfigurations(t *testing.T, db *DB) {
	f := setup(t, db)
	mg := func(c byte) verify.Sid { return verify.Sid("MG" + repeat(c, 32)) }
	conf := func(country string, c byte, at time.Time) *verify.MessagingConfiguration {
		return &verify.MessagingConfiguration{AccountSid: f.account.Sid, ServiceSid: f.service.Sid, Country: country,
			MessagingServiceSid: mg(c), DateCreated: at, DateUpdated: at}
	}
	if got, err := db.MessagingServiceFor(f.ctx, f.service.Sid, "US"); err != nil || got != "" {
		t.Fatalf("no configuration: %q, %v", got, err)
	}
	// Ten parallel creates of one country: exactly one is stored.
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.CreateMessagingConfiguration(f.ctx, conf("all", "0123456789"[i], t0))
		}()
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !verify.IsCode(err, verify.EMessagingExists):
			t.Errorf("racing create: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d creates of all succeeded", won)
	}
	all, err := db.FindMessagingConfiguration(f.ctx, f.service.Sid, "all")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.MessagingServiceFor(f.ctx, f.service.Sid, "US"); got != all.MessagingServiceSid {
		t.Errorf("US falls back to all: %q, want %q", got, all.MessagingServiceSid)
	}
	if err := db.CreateMessagingConfiguration(f.ctx, conf("US", 'a', t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateMessagingConfiguration(f.ctx, conf("GB", 'b', t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.MessagingServiceFor(f.ctx, f.service.Sid, "US"); got != mg('a') {
		t.Errorf("US: %q, want its own", got)
	}
	if got, _ := db.MessagingServiceFor(f.ctx, f.service.Sid, ""); got != all.MessagingServiceSid {
		t.Errorf("a number of no country: %q, want all's", got)
	}
	upd := conf("US", 'c', t0)
	upd.DateUpdated = t0.Add(time.Hour)
	if err := db.UpdateMessagingConfiguration(f.ctx, upd); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindMessagingConfiguration(f.ctx, f.service.Sid, "US"); got.MessagingServiceSid != mg('c') ||
		!got.DateCreated.Equal(t0.Add(time.Second)) || !got.DateUpdated.Equal(t0.Add(time.Hour)) {
		t.Errorf("after update: %+v", got)
	}
	// Creation order, ties by country: all, then GB before US.
	var seen []string
	p := verify.Page{Size: 2}
	for {
		items, more, err := db.ListMessagingConfigurations(f.ctx, f.service.Sid, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range items {
			seen = append(seen, m.Country)
		}
		if !more {
			break
		}
		last := items[len(items)-1]
		p.After = &verify.Cursor{Time: last.DateCreated, Sid: verify.Sid(last.Country)}
	}
	if len(seen) != 3 || seen[0] != "all" || seen[1] != "GB" || seen[2] != "US" {
		t.Errorf("list order %v", seen)
	}
	if err := db.DeleteMessagingConfiguration(f.ctx, f.service.Sid, "GB"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMessagingConfiguration(f.ctx, f.service.Sid, "GB"); !verify.IsCode(err, verify.ENotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := db.UpdateMessagingConfiguration(f.ctx, conf("GB", 'd', t0)); !verify.IsCode(err, verify.ENotFound) {
		t.Errorf("update of a deleted one: %v", err)
	}
	if err := db.DeleteService(f.ctx, f.account.Sid, f.service.Sid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindMessagingConfiguration(f.ctx, f.service.Sid, "US"); !verify.IsCode(err, verify.ENotFound) {
		t.Errorf("after the service's delete: %v", err)
	}
}

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
