package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// The hot single-row writes on PostgreSQL (a TOTP check, a push answer),
// and the point reads before them (read_batch.go), are grouped, as SQLite's
// writes are group-committed (commit.go): the ones that arrive while a
// statement runs go together into the next one. Their cost
// in PostgreSQL was mostly per statement and per commit (the executor's
// set-up, the protocol, the WAL flush, a backend woken for each), not per
// row: pgbench ran the TOTP check's shape 8 rows at a time at 3-4 times the
// rows per second of one at a time. BENCHMARKS.md has the measurements.
const (
	// batchWorkers is how many batch statements of a kind one node keeps
	// in flight. One, measured against two, three and four for TOTP: the
	// writes that come while it runs all make the next statement, and
	// PostgreSQL's CPU per check was lowest (about 220 µs against 310, 320
	// and 500).
	batchWorkers = 1
	// batchMax bounds a statement's rows, so that its arrays and the rows
	// it locks stay small.
	batchMax = 64
	// batchTimeout bounds a batch's statement, which no one request's
	// context may cancel on the others' behalf.
	batchTimeout = 30 * time.Second
)

var errStoreClosed = errors.New("sqlstore: the store is closed")

// batchJob is one write waiting for its batch, and where its answer goes.
type batchJob[J, R any] struct {
	in  J
	res chan R
}

// batcher gathers one kind of write (or read) of one node into batch
// statements. key names the row a job writes: one statement writes a row
// at most once. A nil key puts every waiting job into one statement: reads
// (read_batch.go), where two of one row do not conflict. many writes
// several jobs' rows in one statement and answers each, in order; one
// writes a lone job, and each job of a batch whose statement failed: a
// failed statement wrote nothing (a deadlock with a deletion, a lost
// connection), and whatever failed should fail only its own write.
type batcher[K comparable, J, R any] struct {
	key  func(J) K
	many func(context.Context, []J) ([]R, error)
	one  func(context.Context, J) R

	jobs chan *batchJob[J, R]
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	// shared counts the jobs answered by a statement they shared with
	// others, so that a test can tell that batches form.
	shared atomic.Int64
}

func newBatcher[K comparable, J, R any](key func(J) K, many func(context.Context, []J) ([]R, error), one func(context.Context, J) R) *batcher[K, J, R] {
	b := &batcher[K, J, R]{key: key, many: many, one: one, jobs: make(chan *batchJob[J, R]), quit: make(chan struct{})}
	b.wg.Add(batchWorkers)
	for range batchWorkers {
		go b.work()
	}
	return b
}

// close lets the batches already taken finish, then stops the workers;
// later jobs fail with errStoreClosed.
func (b *batcher[K, J, R]) close() {
	b.once.Do(func() { close(b.quit) })
	b.wg.Wait()
}

// submit hands in to a worker and waits for its answer; closed or ctx's
// end answer a job never taken. The jobs channel is unbuffered, so a job is
// either taken by a worker, which will answer it, or never written. A
// caller whose context ends while its batch runs gets ctx's error, and its
// write stands or not as the statement decides, as when a lone statement's
// answer is lost.
func (b *batcher[K, J, R]) submit(ctx context.Context, in J, failed func(error) R) R {
	j := &batchJob[J, R]{in: in, res: make(chan R, 1)}
	select {
	case b.jobs <- j:
	case <-b.quit:
		return failed(errStoreClosed)
	case <-ctx.Done():
		return failed(ctx.Err())
	}
	select {
	case r := <-j.res:
		return r
	case <-ctx.Done():
		return failed(ctx.Err())
	}
}

// work takes a job, then every job already waiting, up to batchMax, and
// runs them. It never waits for more to come: a lone write runs at once,
// and under load the writes that came during one statement make the next.
func (b *batcher[K, J, R]) work() {
	defer b.wg.Done()
	for {
		var first *batchJob[J, R]
		select {
		case first = <-b.jobs:
		case <-b.quit:
			return
		}
		jobs := []*batchJob[J, R]{first}
	gather:
		for len(jobs) < batchMax {
			select {
			case j := <-b.jobs:
				jobs = append(jobs, j)
			default:
				break gather
			}
		}
		if b.key == nil {
			b.run(jobs)
			continue
		}
		for _, round := range rounds(jobs, func(j *batchJob[J, R]) K { return b.key(j.in) }) {
			b.run(round)
		}
	}
}

// rounds splits jobs into batches in which no key appears twice, each
// key's jobs in the order they came, so that the second write of a row
// sees the first.
func rounds[T any, K comparable](jobs []T, key func(T) K) [][]T {
	seen := make(map[K]int, len(jobs))
	var out [][]T
	for _, j := range jobs {
		k := seen[key(j)]
		seen[key(j)] = k + 1
		if k == len(out) {
			out = append(out, make([]T, 0, len(jobs)))
		}
		out[k] = append(out[k], j)
	}
	return out
}

// run answers jobs, whose keys, if any, are all different.
func (b *batcher[K, J, R]) run(jobs []*batchJob[J, R]) {
	if len(jobs) > 1 && b.runMany(jobs) {
		return
	}
	for _, j := range jobs {
		j.res <- b.alone(j.in)
	}
}

// alone answers one job with its own statement, under a bound of its own:
// a batch that failed by running out of its time, or a job before it that
// did, leaves it its whole time.
func (b *batcher[K, J, R]) alone(in J) R {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	return b.one(ctx, in)
}

// runMany answers jobs with one statement, or reports that it failed and
// answered none.
func (b *batcher[K, J, R]) runMany(jobs []*batchJob[J, R]) bool {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	in := make([]J, len(jobs))
	for k, j := range jobs {
		in[k] = j.in
	}
	out, err := b.many(ctx, in)
	if err != nil {
		return false
	}
	b.shared.Add(int64(len(jobs)))
	for k, j := range jobs {
		j.res <- out[k]
	}
	return true
}

// rowsByKey runs a statement with query (a pool's or a transaction's
// QueryContext, or store.query) and keeps each row it returns under the key
// scan reads from it.
func rowsByKey[K comparable, T any](ctx context.Context, query func(context.Context, string, ...any) (*sql.Rows, error),
	statement string, args []any, scan func(scanner) (K, T, error)) (map[K]T, error) {
	rows, err := query(ctx, statement, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[K]T)
	for rows.Next() {
		k, v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		found[k] = v
	}
	return found, rows.Err()
}
