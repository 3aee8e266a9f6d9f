package apns

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSend measures one push to the fake APNs over an established
// HTTP/2 connection with a cached provider token. The allocations include
// the fake's side of the request, which runs in the same process.
func BenchmarkSend(b *testing.B) {
	key, _ := newSigningKey(b)
	f := newFake(b, nil, nil, nil) // no JWT check: measure the client, not the fake's ECDSA verify
	c, err := New(Config{BaseURL: f.srv.URL, SigningKey: key, KeyID: testKeyID, TeamID: testTeamID, TLS: f.roots()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	n := testNotification()
	n.Expiration = time.Now().Add(time.Hour)
	ctx := context.Background()
	if _, err := c.Send(ctx, n); err != nil { // connect and sign outside the loop
		b.Fatal(err)
	}
	f.mu.Lock()
	f.forget = true // keep the fake's memory flat
	f.mu.Unlock()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(ctx, n); err != nil {
			b.Fatal(err)
		}
	}
}
