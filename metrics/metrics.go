// Package metrics keeps verifyd's Prometheus metrics and serves them in
// the text format (GET /metrics). It wraps github.com/VictoriaMetrics/
// metrics, chosen over prometheus/client_golang for its size (three
// packages against some forty-five) and its cheap hot path: a counter is
// an atomic add behind a map lookup. Label values come from bounded sets
// only (route patterns, status codes, outbox kinds and outcomes), never
// from SIDs or phone numbers, so the series stay few.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// Registry is one server's metrics.
type Registry struct {
	set *vm.Set
	// requests and latencies hold the series of Request by their labels,
	// so that a request costs a map read, not the building of a series
	// name (the set's own index is keyed by the whole name).
	requests  sync.Map // requestKey → *vm.Counter
	latencies sync.Map // op → *vm.PrometheusHistogram
}

type requestKey struct {
	op     string
	status int
}

// New returns an empty registry.
func New() *Registry { return &Registry{set: vm.NewSet()} }

// Request counts one API request of the route op (its pattern, such as
// "POST /v2/Services/{ServiceSid}/Verifications") answered with status,
// and observes its duration.
func (r *Registry) Request(op string, status int, d time.Duration) {
	if op == "" {
		op = "unmatched"
	}
	k := requestKey{op, status}
	c, ok := r.requests.Load(k)
	if !ok {
		c, _ = r.requests.LoadOrStore(k, r.set.GetOrCreateCounter(`verifyd_requests_total{op=`+strconv.Quote(op)+`,status="`+strconv.Itoa(status)+`"}`))
	}
	c.(*vm.Counter).Inc()
	h, ok := r.latencies.Load(op)
	if !ok {
		h, _ = r.latencies.LoadOrStore(op, r.set.GetOrCreatePrometheusHistogram(`verifyd_request_duration_seconds{op=`+strconv.Quote(op)+`}`))
	}
	h.(*vm.PrometheusHistogram).Update(d.Seconds())
}

// Error counts an error answer of the route op by its Twilio code: wrong
// signatures (60311, 60324), attempts used up (60308, 60310), throttled
// logins (20429), and the rest.
func (r *Registry) Error(op string, code int) {
	r.set.GetOrCreateCounter(`verifyd_errors_total{op=` + strconv.Quote(op) + `,code="` + strconv.Itoa(code) + `"}`).Inc()
}

// Delivery counts one outbox attempt of kind (push, webhook, code) and
// its outcome (delivered, pending for a retry, dead), and observes how
// long the attempt took.
func (r *Registry) Delivery(kind, outcome string, d time.Duration) {
	r.set.GetOrCreateCounter(fmt.Sprintf(`verifyd_outbox_attempts_total{kind=%q,outcome=%q}`, kind, outcome)).Inc()
	r.set.GetOrCreatePrometheusHistogram(fmt.Sprintf(`verifyd_outbox_attempt_duration_seconds{kind=%q}`, kind)).Update(d.Seconds())
}

// Event counts a domain event (challenge.created, challenge.approved,
// challenge.denied, challenge.expired, factor.created, factor.verified,
// factor.deleted) of a factor type (push, totp).
func (r *Registry) Event(event, factorType string) {
	r.set.GetOrCreateCounter(fmt.Sprintf(`verifyd_events_total{event=%q,factor_type=%q}`, event, factorType)).Inc()
}

// Database observes how long a database commit ("commit") or a WAL
// fsync ("fsync", SQLite) took.
func (r *Registry) Database(op string, d time.Duration) {
	r.set.GetOrCreatePrometheusHistogram(`verifyd_db_seconds{op=` + strconv.Quote(op) + `}`).Update(d.Seconds())
}

// FailedLogin counts a request refused for wrong credentials (not one
// refused by the throttle, which never compares them).
func (r *Registry) FailedLogin() { r.set.GetOrCreateCounter(`verifyd_failed_logins_total`).Inc() }

// Gauge reports f's value at every scrape under name (with its labels).
func (r *Registry) Gauge(name string, f func() float64) { r.set.GetOrCreateGauge(name, f) }

// WritePrometheus writes every metric, the Go runtime's and the process's
// included, in the Prometheus text format.
func (r *Registry) WritePrometheus(w io.Writer) {
	r.set.WritePrometheus(w)
	vm.WriteProcessMetrics(w)
}

// Handler serves WritePrometheus.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.WritePrometheus(w)
	})
}
