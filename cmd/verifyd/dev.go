package main

import (
	"context"
	"fmt"
	"io"

	"github.com/verifyd/verify"
)

// The development mode's well-known constants (serve --dev without
// VERIFYD_ACCOUNT_SID): a CI job or a quick start can write them in its
// scripts, as Twilio-emulating tools ship test credentials. Anyone who
// reaches a --dev server knows them: it is never on by default.
const (
	DevAccountSid = "AC00000000000000000000000000000000"
	DevAuthToken  = "devtokendevtokendevtokendevtoken"
	DevServiceSid = "VA00000000000000000000000000000000"
)

// ensureDevService creates the development service if the account has
// none of that SID, and says what the constants are.
func ensureDevService(ctx context.Context, v *verify.Verifier, stdout io.Writer) error {
	_, err := v.FetchService(ctx, DevAccountSid, DevServiceSid)
	if verify.IsCode(err, verify.ENotFound) {
		name := "Dev"
		_, err = v.CreateServiceSid(ctx, DevAccountSid, DevServiceSid, verify.ServiceParams{FriendlyName: &name})
	}
	if err != nil {
		return fmt.Errorf("development service: %w", err)
	}
	fmt.Fprintf(stdout, `DEVELOPMENT MODE: well-known credentials, never for a server others can reach:
  VERIFYD_ACCOUNT_SID=%s
  VERIFYD_AUTH_TOKEN=%s
  service %s ("Dev")
`, DevAccountSid, DevAuthToken, DevServiceSid)
	return nil
}
