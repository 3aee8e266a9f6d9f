package api

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDateMarshal(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	ts := time.Date(2024, 5, 6, 9, 8, 9, 987654321, paris)
	tests := []struct {
		name string
		d    date
		want string
	}{
		{"whole seconds, Z, UTC from another zone", dateOf(ts), `"2024-05-06T07:08:09Z"`},
		{"UTC", dateOf(time.Date(2015, 7, 30, 20, 0, 0, 0, time.UTC)), `"2015-07-30T20:00:00Z"`},
		{"nil pointer", datePtr(nil), `null`},
		{"zero time", dateOf(time.Time{}), `null`},
		{"pointer", datePtr(&ts), `"2024-05-06T07:08:09Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(struct {
				D date `json:"d"`
			}{tt.d})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(b), `{"d":`+tt.want+`}`; got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}
