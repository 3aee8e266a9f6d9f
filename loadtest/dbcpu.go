package loadtest

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/verifyd/verify/sqlstore"
)

// A PostgreSQL server on this machine spends CPU of its own on every
// request, in processes the report's RSS and the Go profile do not see.
// dbCPU reads it from /proc: the user and system time of every process
// named postgres, summed. Sampled around each timed slice, it gives the
// database's CPU per operation. It counts the whole server, autovacuum and
// checkpointer included, and processes that exit during a slice take
// their time with them; on a machine running one workload at a time that
// is what the workload cost.
type dbCPU func() (time.Duration, bool)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux build this runs on (the kernel fixes it for user space).
const clockTicks = 100

// newDBCPU returns the sampler for dsn, or nil when the database is not a
// PostgreSQL server on this machine (SQLite's CPU is the server's own).
func newDBCPU(dsn string) dbCPU {
	if !sqlstore.IsPostgres(dsn) || !localDSN(dsn) {
		return nil
	}
	if _, ok := postgresCPU(); !ok {
		return nil
	}
	return postgresCPU
}

// localDSN reports whether the PostgreSQL connection string dsn (a
// postgres:// URL, or the key=value form) names a server on this machine,
// whose processes postgresCPU can then read. It parses dsn with
// pgconn.ParseConfig, the parser the store's pgx connection itself uses, so
// that it decides on the host the store connects to: one in brackets
// ([::1]), a host= query parameter (which overrides the URL's host), a
// multi-host list, the PGHOST default and the default socket directory all
// count as pgx counts them. Every host of a multi-host string must be
// local, since the connection may go to any of them. A string pgx cannot
// parse is not local: the sampler is left out rather than wrong.
func localDSN(dsn string) bool {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return false
	}
	if !localHost(cfg.Host, cfg.Port) {
		return false
	}
	for _, f := range cfg.Fallbacks {
		if !localHost(f.Host, f.Port) {
			return false
		}
	}
	return true
}

// localHost reports whether a host pgx dials is on this machine: a Unix
// socket directory, localhost, or a loopback IP. Names are not resolved:
// a DNS answer is no proof, and the check must not wait on a resolver.
func localHost(host string, port uint16) bool {
	if network, _ := pgconn.NetworkAddress(host, port); network == "unix" {
		return true
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host) // accepts a zone, as in ::1%lo
	return err == nil && ip.IsLoopback()
}

// postgresCPU sums utime and stime of the processes whose command is
// postgres.
func postgresCPU() (time.Duration, bool) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, false
	}
	var ticks int64
	found := false
	for _, d := range dirs {
		comm, err := os.ReadFile(d + "/comm")
		if err != nil || string(bytes.TrimSpace(comm)) != "postgres" {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// The fields after the parenthesised command: state is field 3,
		// utime 14 and stime 15.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 13 {
			continue
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		s, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ticks += u + s
		found = true
	}
	return time.Duration(ticks) * time.Second / clockTicks, found
}
