package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/verifyd/verify/sqlstore"
)

// serveBatch is how many secrets a server re-seals per transaction. Each
// batch holds the SQLite writer for a few milliseconds; requests queued
// behind it wait no longer than that.
const serveBatch = 100

// startRekeyer runs the server's part of a key rotation on SQLite, now and
// then every cfg.KeyCheckInterval until ctx ends, and returns a function
// that waits for it to stop:
//
//   - When the keys come from the key file (no VERIFYD_SECRET_KEY), it
//     re-reads the file, and if it changed ("verifyd rotate-key --new-key"
//     wrote a new primary key and kept the old ones), it switches the store
//     to the new keys, provided they still open the database. So a rotation
//     needs no restart, and a SQLite file is never without its server.
//   - It re-seals, in batches, every secret not under the primary key.
//
// A SQLite file has exactly one server, and that server knows every key of
// its ring, so re-sealing here can never write a value someone else cannot
// open. On PostgreSQL it does nothing: a node cannot know that every other
// node already has the new key, so there the operator runs "verifyd
// rotate-key" once every node has been restarted with it (README).
//
// The access-token key stays the one the server started with: tokens are
// not stored, live at most five minutes, and follow at the next restart.
func startRekeyer(ctx context.Context, db *sqlstore.DB, cfg config, logger *slog.Logger) (wait func()) {
	if db.Shared() || cfg.KeyCheckInterval <= 0 {
		return func() {}
	}
	fromFile := cfg.SecretKey == ""
	var last []byte
	if fromFile {
		last, _ = os.ReadFile(keyFilePath(cfg.DB))
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(cfg.KeyCheckInterval)
		defer t.Stop()
		// pending: there may be secrets under old keys, at start and after
		// a key change. Once a pass has finished, none can appear until
		// the next change, since this server is the file's only writer
		// and seals under its primary key; so the table is not scanned
		// at every check.
		pending := true
		for {
			if fromFile {
				var changed bool
				last, changed = reloadKeyFile(ctx, db, cfg, last, logger)
				pending = pending || changed
			}
			if pending {
				err := serveReseal(ctx, db, logger)
				if err != nil && ctx.Err() == nil {
					logger.Error("re-sealing secrets failed", "err", err)
				}
				pending = err != nil
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return wg.Wait
}

// reloadKeyFile switches db to the keys of the key file if its bytes differ
// from last, and returns the bytes it acted on and whether it switched. Keys that do not open the
// database are refused with an error in the log, and the server goes on
// with the keys it has; the file is read again at the next check.
func reloadKeyFile(ctx context.Context, db *sqlstore.DB, cfg config, last []byte, logger *slog.Logger) ([]byte, bool) {
	path := keyFilePath(cfg.DB)
	b, err := os.ReadFile(path)
	if err != nil {
		logger.Error("reading the key file failed", "path", path, "err", err)
		return last, false
	}
	if bytes.Equal(b, last) {
		return last, false
	}
	k, err := parseKeyFile(path, b)
	if err == nil {
		k, err = withPrevious(k, cfg.PreviousKeys)
	}
	if err == nil {
		primary, previous := k.sealing()
		err = db.SetKeys(ctx, primary, previous...)
	}
	if err != nil {
		logger.Error("the changed key file was not loaded", "path", path, "err", err)
		return last, false
	}
	id := db.PrimaryKeyID()
	logger.Info("loaded the changed key file", "path", path, "primary_key_id", hex.EncodeToString(id[:]))
	return b, true
}

// serveReseal re-seals what is left under old keys and logs how it went.
// Most checks find nothing to do, for the price of one KeyStatus.
func serveReseal(ctx context.Context, db *sqlstore.DB, logger *slog.Logger) error {
	st, err := db.KeyStatus(ctx)
	if err != nil || st.Left() == 0 {
		return err
	}
	n, err := resealAll(ctx, db, serveBatch, func(int) {})
	logger.Info("re-sealed secrets under the primary key", "resealed", n, "left_before", st.Left())
	return err
}
