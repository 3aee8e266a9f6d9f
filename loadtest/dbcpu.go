package loadtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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

// localDSN reports whether a postgres:// URL names this machine.
func localDSN(dsn string) bool {
	rest := dsn[strings.Index(dsn, "://")+3:]
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	host := rest
	if i := strings.IndexAny(host, ":/?"); i >= 0 {
		host = host[:i]
	}
	return host == "" || host == "localhost" || host == "127.0.0.1" || host == "[::1]"
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
