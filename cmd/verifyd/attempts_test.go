package main

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify/otp"
	"github.com/verifyd/verify/sqlstore"
)

// TestAttemptBurst is the attack that once got past the limit of five wrong
// codes: 59 wrong codes and the right one (sent last) fired at one TOTP
// challenge at once, over HTTP, round after round; on PostgreSQL two
// servers on one database split each burst. Then the same at the
// verification of a new TOTP factor. Every answer that reflects a compared
// code (200 pending or approved, 200 unverified or verified) is counted: at
// most five per challenge or factor, and never the right code's approval
// once five wrong codes were counted.
func TestAttemptBurst(t *testing.T) { forEachBackend(t, testAttemptBurst) }

const burstSize = 60

func testAttemptBurst(t *testing.T, db string) {
	env := accountEnv(testAccount, testToken)
	env["VERIFYD_SECRET_KEY"] = testSecretKey
	nodes := []*server{startServer(t, db, env)}
	if sqlstore.IsPostgres(db) {
		nodes = append(nodes, startServer(t, db, env))
	}
	s := nodes[0]
	st, body := call(t, s, "POST", "/v2/Services", url.Values{"FriendlyName": {"Burst"}})
	if st != 201 {
		t.Fatal(st, body)
	}
	VA := body["sid"].(string)
	p := otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 2}
	for round := range 4 {
		E := fmt.Sprintf("/v2/Services/%s/Entities/burst-user-%04d", VA, round)
		factor := func() (string, *codes) {
			st, body := call(t, s, "POST", E+"/Factors", url.Values{"FriendlyName": {"phone"}, "FactorType": {"totp"}, "Config.Skew": {"2"}})
			if st != 201 {
				t.Fatal(st, body)
			}
			return body["sid"].(string), newCodes(t, body["binding"].(map[string]any)["secret"].(string), p)
		}

		// A challenge.
		YF, codes := factor()
		if st, body := call(t, s, "POST", E+"/Factors/"+YF, url.Values{"AuthPayload": {codes.next(t)}}); body["status"] != "verified" {
			t.Fatal(st, body)
		}
		st, body := call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {YF}})
		if st != 201 {
			t.Fatal(st, body)
		}
		YC := body["sid"].(string)
		tally := burstAt(nodes, E+"/Challenges/"+YC, codes.wrongN(t, burstSize-1), codes.next(t))
		if n := tally["200 pending"] + tally["right 200 approved"]; n > 5 || tally["right 200 approved"] == 1 && tally["200 pending"] == 5 ||
			n+tally["429 60308"]+tally["403 60322"]+tally["right 429 60308"] != burstSize {
			t.Fatalf("round %d, challenge: %v", round, sorted(tally))
		}
		if st, body := call(t, s, "GET", E+"/Challenges/"+YC, nil); st != 200 ||
			(body["status"] == "approved") != (tally["right 200 approved"] == 1) {
			t.Fatalf("round %d: challenge is %v after %v", round, body["status"], sorted(tally))
		}

		// A factor's verification.
		YF, codes = factor()
		tally = burstAt(nodes, E+"/Factors/"+YF, codes.wrongN(t, burstSize-1), codes.next(t))
		if tally["200 unverified"] > 5 || tally["right 200 verified"] == 1 && tally["200 unverified"] == 5 ||
			tally["200 unverified"]+tally["200 verified"]+tally["429 60310"]+tally["right 200 verified"]+tally["right 429 60310"] != burstSize {
			t.Fatalf("round %d, factor: %v", round, sorted(tally))
		}
		if st, body := call(t, s, "GET", E+"/Factors/"+YF, nil); st != 200 ||
			(body["status"] == "verified") != (tally["right 200 verified"] == 1) {
			t.Fatalf("round %d: factor is %v after %v", round, body["status"], sorted(tally))
		}
	}
}

// burstAt posts every wrong code and then the right one to path at once,
// spread over the nodes, and counts the answers; the right code's answer
// is counted under "right …".
func burstAt(nodes []*server, path string, wrong []string, right string) map[string]int {
	all := append(wrong, right)
	hits := make([]hit, len(all))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, code := range all {
		wg.Go(func() {
			<-start
			if i == len(all)-1 {
				time.Sleep(time.Millisecond) // last, among the others still in flight
			}
			hits[i] = send(nodes[i%len(nodes)], "POST", path, testAccount, testToken, url.Values{"AuthPayload": {code}})
		})
	}
	close(start)
	wg.Wait()
	tally := count(hits[:len(wrong)])
	tally["right "+hits[len(wrong)].String()]++
	return tally
}
