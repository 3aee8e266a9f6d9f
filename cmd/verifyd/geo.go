package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/phone"
)

// loadGeo reads the geo permissions file of --geo-permissions; none
// allows every country.
func loadGeo(path string) (*verify.GeoPermissions, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--geo-permissions: %w", err)
	}
	defer f.Close()
	g, err := verify.LoadGeoPermissions(f)
	if err != nil {
		return nil, fmt.Errorf("--geo-permissions %s: %w", path, err)
	}
	return g, nil
}

const geoUsage = `verifyd geo: check a geo permissions file, and what it decides for a send

  verifyd geo --file geo.json --to +2348031234567 [--channel sms] [--account AC…] [--service VA…]

The file (--geo-permissions of serve) is JSON:

  {"rules": [
    {"countries": ["*"], "permission": "block", "channels": ["call"]},
    {"countries": ["NG", "CU"], "permission": "block"},
    {"account": "AC…", "countries": ["NG"], "permission": "allow"}
  ]}

channels default to sms, call and whatsapp; countries are ISO 3166-1 codes
or "*"; account and service narrow a rule. The most specific matching rule
decides (service over account over everyone, a named country over "*",
then the later rule); no match allows. A blocked send answers 60605 unless
the number is on the account's Safe List or the request says
RiskCheck=disable.
`

// geoCommand is "verifyd geo": it loads the file as serve would and
// prints the decision for one send, so an operator can try a file
// before serving it.
func geoCommand(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("geo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), geoUsage); fs.PrintDefaults() }
	file := fs.String("file", getenv("VERIFYD_GEO_PERMISSIONS"), "geo permissions file (VERIFYD_GEO_PERMISSIONS)")
	to := fs.String("to", "", "destination number, E.164")
	channel := fs.String("channel", verify.ChannelSMS, "sms, call or whatsapp")
	account := fs.String("account", "", "account SID of the send")
	service := fs.String("service", "", "service SID of the send")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("geo: give --file (or VERIFYD_GEO_PERMISSIONS)")
	}
	g, err := loadGeo(*file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d rules, valid\n", *file, len(g.Rules))
	if *to == "" {
		return nil
	}
	n, err := phone.Parse(*to)
	if err != nil {
		return fmt.Errorf("geo: --to %q is not a valid E.164 number", *to)
	}
	perm, rule := g.Decide(verify.Sid(*account), verify.Sid(*service), n.Country, *channel)
	why := "no rule matches"
	if rule != nil {
		why = fmt.Sprintf("rule %+v", *rule)
	}
	fmt.Fprintf(stdout, "%s to %s (%s): %s (%s)\n", *channel, n.E164, n.Country, perm, why)
	return nil
}
