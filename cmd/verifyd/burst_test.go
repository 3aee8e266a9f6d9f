package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
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

// gatewayEnv starts h as the signed HTTP gateway for the test and returns
// the server environment that sends to it, with the test account.
func gatewayEnv(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	gw := httptest.NewServer(h)
	t.Cleanup(gw.Close)
	env := accountEnv(testAccount, testToken)
	env["VERIFYD_GATEWAY_URL"] = gw.URL
	env["VERIFYD_GATEWAY_SECRET"] = gatewaySecret
	return env
}
