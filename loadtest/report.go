package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/verifyd/verify/sqlstore"
)

// Report is the outcome of a run, as printed and as written to JSON.
type Report struct {
	Started         time.Time      `json:"started"`
	Machine         Machine        `json:"machine"`
	Server          string         `json:"server"`
	Database        string         `json:"database,omitempty"`
	Concurrency     int            `json:"concurrency"`
	Rate            int            `json:"open_loop_rate,omitempty"`
	DurationSeconds float64        `json:"duration_seconds"`
	Rounds          int            `json:"rounds"`
	MaxRequests     int64          `json:"max_requests"`
	Factors         int            `json:"totp_factors"`
	PushFactors     int            `json:"push_factors"`
	PushChallenges  int            `json:"push_challenges"`
	PreloadFactors  int            `json:"preload_factors,omitempty"`
	Provisioning    []Provisioning `json:"provisioning"`
	Results         []Result       `json:"results"`
	Drains          []Drain        `json:"drains,omitempty"`
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Model      string `json:"cpu_model"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
}

// Provisioning is one setup step and how long it took.
type Provisioning struct {
	What      string  `json:"what"`
	Count     int     `json:"count"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second,omitempty"`
}

// Result is one workload's timed window. Latencies are in milliseconds and
// cover every operation, failed ones included; Requests counts operations
// (push-create-approve makes two HTTP requests per operation).
type Result struct {
	Workload     string   `json:"workload"`
	Requests     int64    `json:"requests"`
	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Seconds      float64  `json:"seconds"`
	RPS          float64  `json:"rps"`
	P50          float64  `json:"p50_ms"`
	P90          float64  `json:"p90_ms"`
	P99          float64  `json:"p99_ms"`
	Max          float64  `json:"max_ms"`
	// RSSMB is the largest resident set seen during the window, of this
	// process (in-process server and client) or of --server-pid.
	RSSMB float64 `json:"rss_mb,omitempty"`
	// DBCPUMicros is the CPU a PostgreSQL server on this machine spent
	// per operation during the window, in microseconds (dbcpu.go).
	DBCPUMicros float64 `json:"db_cpu_us_per_op,omitempty"`
	// ServerCPUMicros is the CPU the server under test spent per
	// operation, in microseconds: --server-pid's process, or for
	// peer-totp --peer-pid's. An in-process server shares its process
	// with the client, so it has none.
	ServerCPUMicros float64 `json:"server_cpu_us_per_op,omitempty"`
	// Floor names the floor workload this one is compared with, and
	// VsFloor is RPS / the floor's RPS in the same run.
	Floor           string  `json:"floor,omitempty"`
	VsFloor         float64 `json:"vs_floor,omitempty"`
	SetupSeconds    float64 `json:"setup_seconds"`
	LoadAvg         float64 `json:"load_avg_1m"`
	DryAfterSeconds float64 `json:"pool_dry_after_seconds,omitempty"`
	Note            string  `json:"note,omitempty"`
}

func newReport(cfg *Config) *Report {
	return &Report{
		Started: time.Now().UTC().Truncate(time.Second),
		Machine: Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Model: cpuModel(),
			GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH},
		Concurrency: cfg.Concurrency, Rate: cfg.Rate, DurationSeconds: cfg.Duration.Seconds(), Rounds: cfg.Rounds, MaxRequests: cfg.MaxRequests,
		Factors: cfg.Factors, PushFactors: cfg.PushFactors, PushChallenges: cfg.PushChallenges, PreloadFactors: cfg.PreloadFactors,
	}
}

func databaseKind(dsn string) string {
	if sqlstore.IsPostgres(dsn) {
		return "postgres"
	}
	return "sqlite " + dsn
}

// ratios fills VsFloor from the floors measured in the same run; not
// open loop, where every workload runs at the same rate.
func (r *Report) ratios() {
	if r.Rate > 0 {
		return
	}
	rps := map[string]float64{}
	for _, res := range r.Results {
		rps[res.Workload] = res.RPS
	}
	for i := range r.Results {
		if f := rps[r.Results[i].Floor]; f > 0 {
			r.Results[i].VsFloor = round(r.Results[i].RPS/f, 3)
		}
	}
}

// WriteTable writes the results as an aligned text table, with the machine
// and setup above it and any error samples below.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "machine: %d CPUs (%s), GOMAXPROCS=%d, %s, %s\n", r.Machine.CPUs, r.Machine.Model, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.OS)
	fmt.Fprintf(w, "server:  %s", r.Server)
	if r.Database != "" {
		fmt.Fprintf(w, ", %s", r.Database)
	}
	loop := "closed loop"
	if r.Rate > 0 {
		loop = fmt.Sprintf("open loop at %d operations/s, latency from when each fell due", r.Rate)
	}
	fmt.Fprintf(w, "\nload:    %d connections, %s, %gs per workload in %d interleaved round(s)\n", r.Concurrency, loop, r.DurationSeconds, r.Rounds)
	for _, p := range r.Provisioning {
		fmt.Fprintf(w, "setup:   %d %s in %.1fs\n", p.Count, p.What, p.Seconds)
	}
	for _, d := range r.Drains {
		fmt.Fprintf(w, "drain:   %s for %gs: %d events; %d delivered within 10 s after, all %d after %.2fs (%.0f/s); peak %d/s; %d refused attempts during the outage",
			d.Phase, d.OutageSeconds, d.Events, d.Within10s, d.Delivered, d.AllSeconds, d.MeanPerSecond, d.PeakPerSecond, d.Refused)
		if d.Note != "" {
			fmt.Fprintf(w, " (%s)", d.Note)
		}
		fmt.Fprintln(w)
	}
	if len(r.Results) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\tvs floor\tRSS MB\tload\t")
	for _, res := range r.Results {
		vs := "-"
		if res.VsFloor > 0 {
			vs = fmt.Sprintf("%.0f%%", res.VsFloor*100)
		}
		rss := "-"
		if res.RSSMB > 0 {
			rss = fmt.Sprintf("%.0f", res.RSSMB)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%.3f\t%.2f\t%d\t%s\t%s\t%.2f\t\n",
			res.Workload, res.RPS, res.P50, res.P90, res.P99, res.Max, res.Errors, vs, rss, res.LoadAvg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, res := range r.Results {
		line := res.Workload + ": " + res.Note
		if res.Floor != "" {
			line += " (vs " + res.Floor + ")"
		}
		if res.ServerCPUMicros > 0 {
			line += fmt.Sprintf("; server CPU %.0f µs per operation", res.ServerCPUMicros)
		}
		if res.DBCPUMicros > 0 {
			line += fmt.Sprintf("; PostgreSQL CPU %.0f µs per operation", res.DBCPUMicros)
		}
		fmt.Fprintln(w, line)
		for _, s := range res.ErrorSamples {
			fmt.Fprintln(w, "  error: "+strings.ReplaceAll(s, "\n", " "))
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
