package main

import (
	"slices"
	"testing"

	v2010 "github.com/twilio/twilio-go/rest/api/v2010"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// keysClient is twilio-go's 2010-04-01 API client (where Keys live) for
// the given credentials, pointed at s.
func keysClient(t *testing.T, s *server, user, secret string) *v2010.ApiService {
	t.Helper()
	c := v2010.NewApiServiceWithClient(restClient(t, s, user, secret, testAccount, nil))
	c.RequestHandler().Edge, c.RequestHandler().Region = "", ""
	return c
}

// TestAPIKeysTwilioGo manages keys with twilio-go's Api service, as a
// backend rotating credentials would, then uses one key with the Verify
// client in place of the auth token, on each backend.
func TestAPIKeysTwilioGo(t *testing.T) { forEachBackend(t, testAPIKeysTwilioGo) }

func testAPIKeysTwilioGo(t *testing.T, db string) {
	s, _ := newServer(t, db)
	admin := keysClient(t, s, testAccount, testToken)

	k, err := admin.CreateNewKey(new(v2010.CreateNewKeyParams).SetFriendlyName("verify backend"))
	if err != nil {
		t.Fatalf("CreateNewKey: %v", err)
	}
	sid, secret := deref(t, k.Sid, "sid"), deref(t, k.Secret, "secret")
	for i := range 2 {
		if _, err := admin.CreateNewKey(new(v2010.CreateNewKeyParams).SetFriendlyName("spare " + string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	all, err := admin.ListKey(new(v2010.ListKeyParams).SetPageSize(1)) // three pages, through next_page_uri
	if err != nil || len(all) != 3 {
		t.Fatalf("ListKey = %d keys, %v", len(all), err)
	}
	// Keys made in the same millisecond list in SID order, not in the
	// order they were made: look for the first one anywhere.
	assertUnique(t, len(all), func(i int) string { return *all[i].Sid })
	if !slices.ContainsFunc(all, func(k v2010.ApiV2010Key) bool { return *k.Sid == sid }) {
		t.Fatalf("ListKey misses %s", sid)
	}
	if got, err := admin.FetchKey(sid, nil); err != nil || *got.FriendlyName != "verify backend" {
		t.Fatalf("FetchKey = %+v, %v", got, err)
	}
	if got, err := admin.UpdateKey(sid, new(v2010.UpdateKeyParams).SetFriendlyName("verify")); err != nil || *got.FriendlyName != "verify" {
		t.Fatalf("UpdateKey = %+v, %v", got, err)
	}

	// The Verify client with the key instead of the auth token.
	byKey := openapi.NewApiServiceWithClient(restClient(t, s, sid, secret, testAccount, nil))
	byKey.RequestHandler().Edge, byKey.RequestHandler().Region = "", ""
	svc, err := byKey.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Keyed"))
	if err != nil || deref(t, svc.AccountSid, "account_sid") != testAccount {
		t.Fatalf("CreateService with a key = %+v, %v", svc, err)
	}
	if _, err := byKey.FetchService(*svc.Sid); err != nil {
		t.Fatalf("FetchService with a key: %v", err)
	}
	// A key cannot manage keys.
	_, err = keysClient(t, s, sid, secret).ListKey(nil)
	wantTwilioError(t, err, 20003, 401)

	if err := admin.DeleteKey(sid, nil); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	_, err = byKey.FetchService(*svc.Sid)
	wantTwilioError(t, err, 20003, 401)
	_, err = admin.FetchKey(sid, nil)
	wantTwilioError(t, err, 20404, 404)
}
