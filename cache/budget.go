package cache

import (
	"reflect"
	"time"
)

// The cache is bounded in bytes as well as in entries: a factor with the
// largest metadata, or a challenge with every detail field filled, takes
// many times the memory of a typical one, and a count of entries alone
// would let a server holding such rows grow far past what the count was
// sized for. Each table has a budget of its own, so that one kind of row
// cannot push out the others, and the whole cache stays under the sum.
//
// DefaultBytes is the whole cache's budget, by approxSize, unless the
// operator sets another (serve --cache-mb). Measured with 1,000,000 factors
// (BENCHMARKS.md): at 40 MiB the server peaked at 124–142 MB RSS, at 20 MiB
// at 110–113 MB, at 10 MiB at 92–95 MB. The hit rate went from 84 % to 83 %,
// and the rates stayed within the noise, because the rows read again within
// seconds are few. A server whose rows are read again within their
// lifetime (ExclusiveTTL), more of them than 10 MiB holds, reads fewer of
// them cold with a larger budget: with 64 MiB, 22,000 TOTP factors checked
// about 2.6 times each in 10 s took about an eighth less CPU per check,
// where 30,000 checked about once each gained nothing. Each MiB costs about
// 1.5 MB of RSS once full.
const DefaultBytes = 10 << 20

// MinBytes and MaxBytes bound what an operator may give the cache: 1 MiB
// to 64 GiB.
const (
	MinBytes = 1 << 20
	MaxBytes = 64 << 30
)

// shares split a budget among the tables, in twentieths: factors the
// most, since every TOTP check and push answer reads one; then entities
// and, on SQLite, challenges (a push answer reads its challenge).
var shares = struct{ services, entities, factors, challenges, webhooks, rates int64 }{2, 4, 8, 4, 1, 1}

const shareTotal = 20

// share is a table's part of total bytes, and its bound in entries: n at
// DefaultBytes, in proportion otherwise, so that a larger budget is not
// spent by the count of entries before its bytes.
func share(total int64, part int64, n int) budget {
	return budget{bytes: total * part / shareTotal, entries: int(max(1, int64(n)*total/DefaultBytes))}
}

// entryOverhead is what a map entry costs beyond its value: the key, the
// entry struct and the map's own bookkeeping, roughly.
const entryOverhead = 96

// budget bounds one table: at most entries entries and bytes bytes, as
// approxSize counts them. used is what the table holds. gen counts the
// table's invalidations: a reader notes it before reading the database and
// stores what it read only if it has not moved, so a row read before a
// write committed never lands after that write dropped it. It is per
// table so that a write of one kind of row (a push answer, many a second)
// does not keep the reads of the others (entities, factors) from being
// remembered. tables.mu guards used and gen.
type budget struct {
	entries int
	bytes   int64
	used    int64
	gen     uint64
}

// fits reports whether an entry of size may be cached at all: one that
// would take more than a sixteenth of its table is read from the database
// each time instead of pushing out many others.
func (b *budget) fits(size int64) bool { return size <= b.bytes/16 }

// drop deletes k from m and its size from b; t.mu is held.
func drop[K comparable, T any](m map[K]entry[T], b *budget, k K) {
	if e, ok := m[k]; ok {
		b.used -= e.size
		delete(m, k)
	}
}

// dropAllOf empties m and b; t.mu is held.
func dropAllOf[K comparable, T any](m map[K]entry[T], b *budget) {
	clear(m)
	b.used = 0
}

// approxSize is the memory v takes, following pointers, slices, maps and
// strings, with the map overhead of one entry. It is an estimate (Go's
// allocator rounds up, maps keep spare buckets) that grows with every byte
// a row can hold, which is what a bound needs.
func approxSize(v any) int64 {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return int64(rv.Elem().Type().Size()) + int64(indirect(rv.Elem())) + entryOverhead
	}
	return int64(rv.Type().Size()) + int64(indirect(rv)) + entryOverhead
}

var timeType = reflect.TypeFor[time.Time]()

// indirect is the memory v refers to beyond its own inline size.
func indirect(v reflect.Value) int {
	switch v.Kind() {
	case reflect.String:
		return v.Len()
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int(v.Elem().Type().Size()) + indirect(v.Elem())
	case reflect.Slice:
		n := v.Cap() * int(v.Type().Elem().Size())
		for i := range v.Len() {
			n += indirect(v.Index(i))
		}
		return n
	case reflect.Map:
		n := 0
		it := v.MapRange()
		for it.Next() {
			n += int(v.Type().Key().Size()+v.Type().Elem().Size()) + 16 + indirect(it.Key()) + indirect(it.Value())
		}
		return n
	case reflect.Array:
		n := 0
		for i := range v.Len() {
			n += indirect(v.Index(i))
		}
		return n
	case reflect.Struct:
		if v.Type() == timeType {
			return 0 // its location is shared
		}
		n := 0
		for i := range v.NumField() {
			n += indirect(v.Field(i))
		}
		return n
	}
	return 0
}
