package main

import (
	"errors"
	"sync"
	"testing"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// burst runs n calls of fn in parallel, the i-th on nodes[i % len(nodes)],
// and counts the answers: successes by the string fn returns, and
// RestExceptions by their Twilio code. Any other error fails the test.
func burst(t *testing.T, nodes []*openapi.ApiService, n int, fn func(i int, c *openapi.ApiService) (string, error)) (ok map[string]int, codes map[int]int) {
	t.Helper()
	ok, codes = map[string]int{}, map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := fn(i, nodes[i%len(nodes)])
			mu.Lock()
			defer mu.Unlock()
			var te *client.TwilioRestError
			switch {
			case err == nil:
				ok[res]++
			case errors.As(err, &te):
				codes[te.Code]++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return ok, codes
}
