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

// cpuSampler returns the CPU time a server on this machine has spent so
// far, and whether it could read it. Sampled around each timed slice
// (measure), it gives the server's CPU per operation, which the Go
// profile of this process does not see.
type cpuSampler func() (time.Duration, bool)

// cpuSpent is what a sampler measured over a workload's slices.
type cpuSpent struct {
	total time.Duration
	seen  bool
}

// measure samples before a slice and returns what adds the difference to
// into after it; with no sampler, or none readable, it adds nothing.
func measure(sample cpuSampler, into *cpuSpent) (after func()) {
	if sample == nil {
		return func() {}
	}
	t0, ok := sample()
	if !ok {
		return func() {}
	}
	return func() {
		if t1, ok := sample(); ok && t1 >= t0 {
			into.total += t1 - t0
			into.seen = true
		}
	}
}

// perOp is the CPU per operation in microseconds, or 0 if nothing was
// measured.
func (c cpuSpent) perOp(ops int64) float64 {
	if !c.seen || ops == 0 {
		return 0
	}
	return round(float64(c.total/time.Microsecond)/float64(ops), 0)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux build this runs on (the kernel fixes it for user space).
const clockTicks = 100

// newDBCPU returns the sampler of a PostgreSQL server at dsn, or nil when
// the database is not a PostgreSQL server on this machine (SQLite's CPU is
// the server's own). It sums the user and system time of every process
// named postgres, from /proc: the whole server, autovacuum and
// checkpointer included, and processes that exit during a slice take
// their time with them; on a machine running one workload at a time that
// is what the workload cost.
func newDBCPU(dsn string) cpuSampler {
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
	var sum time.Duration
	found := false
	for _, d := range dirs {
		comm, err := os.ReadFile(d + "/comm")
		if err != nil || string(bytes.TrimSpace(comm)) != "postgres" {
			continue
		}
		if t, ok := statCPU(d); ok {
			sum += t
			found = true
		}
	}
	return sum, found
}

// procCPU returns the sampler of one process's CPU: a server given by
// --server-pid or --peer-pid, whose CPU per operation the report then
// gives beside its rate.
func procCPU(pid int) cpuSampler {
	if pid <= 0 {
		return nil
	}
	dir := "/proc/" + strconv.Itoa(pid)
	if _, ok := statCPU(dir); !ok {
		return nil
	}
	return func() (time.Duration, bool) { return statCPU(dir) }
}

// statCPU reads utime plus stime of the process at /proc directory dir.
func statCPU(dir string) (time.Duration, bool) {
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, false
	}
	// The fields after the parenthesised command: state is field 3,
	// utime 14 and stime 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * time.Second / clockTicks, true
}
