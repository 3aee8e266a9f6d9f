package verify

import (
	"testing"
	"time"
)

func TestParseRates(t *testing.T) {
	got, err := ParseRates("60/1m, 180/1h,250/24h")
	if err != nil || len(got) != 3 || got[0] != (Rate{60, time.Minute}) || got[2] != (Rate{250, 24 * time.Hour}) {
		t.Fatalf("ParseRates = %v, %v", got, err)
	}
	if s := got[0].String() + "," + got[1].String() + "," + got[2].String(); s != "60/1m,180/1h,250/24h" {
		t.Errorf("String = %s", s)
	}
	if got, err := ParseRates("none"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("none = %v, %v", got, err)
	}
	for _, bad := range []string{"", "60", "0/1m", "60/0s", "60/1500ms", "60/48h", "x/1m", "60/1m,"} {
		if _, err := ParseRates(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
