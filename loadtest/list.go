package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/verifyd/verify"
)

// preloadBatch is the number of entities (of 100 factors each) inserted per
// transaction: big enough that the per-commit fsync does not dominate,
// small enough that the single SQLite writer is not held for long.
const preloadBatch = 20

// preload inserts n verified TOTP factors into the bench service straight
// through the store API (CreateEntity and CreateFactor inside Tx, the same
// SQL the server runs, secrets sealed the same way), 100 per entity. Going
// through the HTTP API would take two durable requests per factor, hours
// for the million-factor target; the store path loads the same rows.
func (b *bench) preload(ctx context.Context, n int) error {
	if b.local == nil {
		return errors.New("preload needs the in-process server")
	}
	st := b.local.db
	now := time.Now().UTC().Truncate(time.Second)
	entities := (n + factorsPerEnt - 1) / factorsPerEnt
	t0 := time.Now()
	lastLog := t0
	ids := make([]string, 0, entities)
	for e0 := 0; e0 < entities; e0 += preloadBatch {
		err := st.Tx(ctx, func(tx verify.Store) error {
			for e := e0; e < min(e0+preloadBatch, entities); e++ {
				ent := &verify.Entity{AccountSid: verify.Sid(b.local.account), ServiceSid: verify.Sid(b.service),
					Identity: fmt.Sprintf("preload-%08d", e), DateCreated: now, DateUpdated: now}
				var err error
				if ent.Sid, err = verify.NewSid(rand.Reader, verify.PrefixEntity); err != nil {
					return err
				}
				if err := tx.CreateEntity(ctx, ent); err != nil {
					return err
				}
				for k := 0; k < min(factorsPerEnt, n-e*factorsPerEnt); k++ {
					if err := tx.CreateFactor(ctx, preloadFactor(ent, now)); err != nil {
						return err
					}
				}
				ids = append(ids, ent.Identity)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("preload: %w", err)
		}
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			done := min((e0+preloadBatch)*factorsPerEnt, n)
			logf(b.cfg.log(), "preload: %d/%d factors (%.0f/s)", done, n, float64(done)/time.Since(t0).Seconds())
		}
	}
	secs := time.Since(t0).Seconds()
	b.listIDs = append(b.listIDs, ids...)
	b.report.Provisioning = append(b.report.Provisioning, Provisioning{What: "preloaded factors (store API, batched Tx)",
		Count: n, Seconds: round(secs, 1), PerSecond: round(float64(n)/secs, 0)})
	logf(b.cfg.log(), "preloaded %d factors in %d entities in %.1fs (%.0f factors/s)", n, entities, secs, float64(n)/secs)
	return nil
}

// preloadFactor is a verified TOTP factor with a random secret.
func preloadFactor(ent *verify.Entity, now time.Time) *verify.Factor {
	sid, err := verify.NewSid(rand.Reader, verify.PrefixFactor)
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	return &verify.Factor{
		Sid: sid, AccountSid: ent.AccountSid, ServiceSid: ent.ServiceSid, EntitySid: ent.Sid, Identity: ent.Identity,
		FriendlyName: "preloaded", Type: verify.FactorTotp, Status: verify.FactorVerified,
		Totp:        &verify.TotpFactor{Secret: secret, Alg: "sha1", CodeLength: benchDigits, TimeStep: benchTimeStep, Skew: benchSkew},
		DateCreated: now, DateUpdated: now,
	}
}

// factorList: each worker lists a random entity's factors 50 at a time and
// follows next_page_url to the end; every page is one timed operation,
// answered 200 with 1..50 factors.
func (b *bench) factorList(ctx context.Context) (func(int) op, error) {
	if len(b.listIDs) == 0 { // nothing preloaded: list the TOTP factors' entities
		if err := b.ensureTotp(ctx); err != nil {
			return nil, err
		}
	}
	ids := b.listIDs
	return func(int) op {
		next := ""
		return func(ctx context.Context) error {
			target := next
			if target == "" {
				target = b.entityPath(ids[mrand.IntN(len(ids))]) + "/Factors?PageSize=50"
			}
			next = ""
			r, err := b.c.expect(ctx, 200, "GET", target, "", "")
			if err != nil {
				return err
			}
			if n := countFactors(r.body); n < 1 || n > 50 {
				return fmt.Errorf("GET %s: %d factors on a page of 50", shortPath(target), n)
			}
			next, _ = jsonString(pageMeta(r.body), "next_page_url")
			return nil
		}
	}, nil
}

// countFactors counts the factor objects of a page, each of which opens
// with {"sid":"YF. It looks only at the page's few braces: searching for
// the whole key, which starts with the commonest byte of JSON, made the
// load tool spend 8 % of the machine's CPU (perf) scanning 35 KB pages,
// CPU that the server it measures shares.
func countFactors(page []byte) int {
	const open = `{"sid":"YF`
	n := 0
	for {
		i := bytes.IndexByte(page, '{')
		if i < 0 {
			return n
		}
		page = page[i:]
		if bytes.HasPrefix(page, []byte(open)) {
			n++
		}
		page = page[1:]
	}
}

// pageMeta returns a page from its last "meta" key on: verifyd writes a
// list's meta after its items, so the page's next_page_url is found there
// without scanning the items.
func pageMeta(page []byte) []byte {
	if i := bytes.LastIndex(page, []byte(`"meta"`)); i >= 0 {
		return page[i:]
	}
	return page
}
