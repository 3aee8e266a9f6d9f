package loadtest

import "testing"

// TestLocalDSN: only a PostgreSQL server on this machine has its CPU read,
// and the host that decides is the one pgx connects to.
func TestLocalDSN(t *testing.T) {
	// pgx fills what a string leaves out from these; the table is about
	// the strings alone.
	for _, v := range []string{"PGHOST", "PGPORT", "PGSERVICE", "PGSERVICEFILE", "PGSSLMODE"} {
		t.Setenv(v, "")
	}
	for _, c := range []struct {
		dsn  string
		want bool
	}{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", true},
		{"postgresql://u:p@localhost/db", true},
		{"postgres://u:p@LOCALHOST:5432/db", true},
		{"postgres://u@[::1]:5432/db", true},
		{"postgres://u@[::1]/db?sslmode=disable", true},
		{"postgres://u@127.0.0.2/db", true}, // all of 127/8 is loopback
		{"postgres:///db?host=/var/run/postgresql", true},
		{"postgres://u@db.example.com/db?host=/var/run/postgresql", true}, // host= wins, as in pgx
		{"postgres:///db?host=db.example.com", false},
		{"postgres://u@localhost/db?host=db.example.com", false},
		{"postgres://u@127.0.0.1:5432,localhost:5433/db", true},
		{"postgres://u@127.0.0.1,db.example.com/db", false}, // may connect to either
		{"host=localhost dbname=verifyd sslmode=disable", true},
		{"host=/tmp dbname=verifyd", true},
		{"host=::1 port=5432 dbname=verifyd", true},
		{"host=db.example.com port=5432 dbname=verifyd", false},
		{"postgres://postgres@db.example.com:5432/test", false},
		{"postgres://a:b@192.0.2.10/x", false},
		{"postgres://u@[2001:db8::1]:5432/db", false},
		{"postgres://u@localhost:notaport/db", false}, // pgx would not connect either
	} {
		if got := localDSN(c.dsn); got != c.want {
			t.Errorf("localDSN(%q) = %v, want %v", c.dsn, got, c.want)
		}
	}
	// Without a host in the string, pgx connects to PGHOST.
	t.Setenv("PGHOST", "db.example.com")
	if localDSN("postgres:///db") {
		t.Error("postgres:///db with PGHOST=db.example.com counted as local")
	}
	if newDBCPU("/tmp/verifyd.db") != nil {
		t.Error("a SQLite file got a database CPU sampler")
	}
}
