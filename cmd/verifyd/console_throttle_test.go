package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestConsoleSignInThrottle: the console's sign-in shares the API's
// throttle of failed logins. Wrong tokens at the console's form from one
// address are refused, then throttled (429, even with the right token),
// and the API then throttles that address too; the right token from
// another address still signs in.
func TestConsoleSignInThrottle(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "verifyd.db"), accountEnv(testAccount, testToken), "--console")
	csrfField := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	signIn := func(c *http.Client, token string) int {
		t.Helper()
		resp, err := c.Get(s.base + "/console/signin")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfField.FindSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token on the sign-in page: %s", body)
		}
		resp, err = c.PostForm(s.base+"/console/signin", url.Values{"csrf": {string(m[1])}, "user": {testAccount}, "secret": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	browser := func(ip string) *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Transport: dialFrom(t, ip), CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	guesser := browser("127.0.0.3")
	start, refused := time.Now(), 0
	for {
		status := signIn(guesser, "wrongT0ken0123456789abcdef0123456")
		if status == http.StatusTooManyRequests {
			break
		}
		if status != http.StatusUnauthorized {
			t.Fatalf("a wrong token: %d", status)
		}
		// The budget is 10 at once, then one every 2 s of the real clock.
		if refused++; refused > 10+int(time.Since(start)/(2*time.Second))+1 {
			t.Fatalf("%d wrong tokens refused without a throttle", refused)
		}
	}
	if refused < 10 {
		t.Fatalf("throttled after %d failures, want 10", refused)
	}
	if status := signIn(guesser, testToken); status != http.StatusTooManyRequests {
		t.Fatalf("the right token from the throttled address: %d", status)
	}
	req, _ := http.NewRequest(http.MethodGet, s.base+"/v2/Services", nil)
	req.SetBasicAuth(testAccount, testToken)
	resp, err := guesser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the API from the throttled address: %d", resp.StatusCode)
	}
	if status := signIn(browser("127.0.0.4"), testToken); status != http.StatusSeeOther {
		t.Fatalf("the right token from another address: %d", status)
	}
}
