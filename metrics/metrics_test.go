package metrics

import (
	"strings"
	"testing"
	"time"
)

// TestRequestSeries: each (route, status) is its own counter and each
// route its own histogram, however often they are taken.
func TestRequestSeries(t *testing.T) {
	r := New()
	for range 3 {
		r.Request("GET /v2/Services", 200, time.Millisecond)
	}
	r.Request("GET /v2/Services", 401, time.Millisecond)
	r.Request("", 404, time.Millisecond)
	var b strings.Builder
	r.WritePrometheus(&b)
	for _, want := range []string{
		`verifyd_requests_total{op="GET /v2/Services",status="200"} 3`,
		`verifyd_requests_total{op="GET /v2/Services",status="401"} 1`,
		`verifyd_requests_total{op="unmatched",status="404"} 1`,
		`verifyd_request_duration_seconds_count{op="GET /v2/Services"} 4`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}

func BenchmarkRequest(b *testing.B) {
	r := New()
	for b.Loop() {
		r.Request("POST /v2/Services/{ServiceSid}/Verifications", 201, time.Millisecond)
	}
}
