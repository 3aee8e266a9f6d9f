package main

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// dialFrom is a transport whose connections come from the loopback address
// ip, so that the server sees another client address.
func dialFrom(t *testing.T, ip string) *http.Transport {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// TestLoginThrottle runs the binary and drives it with twilio-go: a client
// with a wrong token gets 20003 a handful of times, then 20429 (HTTP 429,
// with Retry-After), even once it switches to the right token, while the
// right token from another address keeps working. An empty enrollment
// token is a 401, not a request of account "".
func TestLoginThrottle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s, v := newServer(t, db)
		bad := twilioClientVia(t, s, testAccount, "wrongT0ken0123456789abcdef0123456", dialFrom(t, "127.0.0.2"))
		// The server's clock is real: the budget refills one failure every
		// 2 s, so on a slow machine a few more than 10 may be checked.
		start, refused := time.Now(), 0
		for {
			_, err := bad.ListService(&openapi.ListServiceParams{})
			var te *client.TwilioRestError
			if !errors.As(err, &te) {
				t.Fatalf("failure %d: %v", refused+1, err)
			}
			if te.Code == 20429 {
				wantTwilioError(t, err, 20429, http.StatusTooManyRequests)
				break
			}
			wantTwilioError(t, err, 20003, http.StatusUnauthorized)
			if refused++; refused > 10+int(time.Since(start)/(2*time.Second))+1 {
				t.Fatalf("%d wrong tokens checked in %v, not throttled", refused, time.Since(start))
			}
		}
		if refused < 10 {
			t.Fatalf("throttled after %d failures, want 10", refused)
		}
		right := twilioClientVia(t, s, testAccount, testToken, dialFrom(t, "127.0.0.2"))
		_, err := right.ListService(&openapi.ListServiceParams{})
		wantTwilioError(t, err, 20429, http.StatusTooManyRequests)

		req, err := http.NewRequest(http.MethodGet, s.base+"/v2/Services", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(testAccount, "wrong")
		resp, err := (&http.Client{Transport: dialFrom(t, "127.0.0.2")}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || err != nil || secs < 1 {
			t.Fatalf("throttled: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}

		svc, err := v.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Still"))
		if err != nil {
			t.Fatalf("the right token from another address: %v", err)
		}
		resp, body := request(t, s, http.MethodPost, "/v2/Services/"+*svc.Sid+"/Entities/user-0001/Factors", "token", "",
			url.Values{"FactorType": {"push"}, "FriendlyName": {"p"}})
		if resp.StatusCode != http.StatusUnauthorized || body["code"] != 20003.0 {
			t.Fatalf("empty enrollment token: %d %v", resp.StatusCode, body)
		}
	})
}
