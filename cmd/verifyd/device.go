package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/verifyd/verify/device"
)

const deviceUsage = `usage: verifyd device [--state FILE] [--json] [--insecure] [--ca FILE] COMMAND [flags]

A virtual Verify Push authenticator that speaks the official SDK's protocol.
Its factor and key live in the state file (default ./verifyd-device.json, mode 0600).

Commands:
  enroll --url BASE --service VA… --identity ID --token ACCESS_TOKEN
         [--name NAME] [--platform none|fcm|apn --push-token T] [--metadata JSON] [--force]
  verify                      prove the key: the factor becomes verified
  challenges [--status pending] [--order desc] [--page-size 50] [--page-token T]
  approve SID | --wait [--timeout 60s] [--poll 1s]
  deny    SID | --wait [--timeout 60s] [--poll 1s]
  show                        print the enrolled factor
  delete                      delete the factor on the server and the state file

Output is one line per result ("approved YC…"), or JSON with --json.
`

// deviceFlags are the options of every device subcommand. The common ones
// are accepted before or after the subcommand, so both
// "verifyd device --insecure verify" and "verifyd device verify --insecure"
// work, as the docs show the latter.
type deviceFlags struct {
	state, ca                                     string
	insecure, json, force, wait                   bool
	url, service, identity, token, name, metadata string
	platform, pushToken                           string
	status, order, pageToken                      string
	pageSize                                      int
	timeout, poll                                 time.Duration
}

func (o *deviceFlags) flagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("device "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), deviceUsage) }
	fs.StringVar(&o.state, "state", o.state, "state file")
	fs.StringVar(&o.ca, "ca", o.ca, "trust the PEM certificate(s) in this file")
	fs.BoolVar(&o.insecure, "insecure", o.insecure, "accept any TLS certificate (development only)")
	fs.BoolVar(&o.json, "json", o.json, "print JSON")
	switch name {
	case "enroll":
		fs.StringVar(&o.url, "url", "", "server base URL, e.g. https://127.0.0.1:4010/v2/")
		fs.StringVar(&o.service, "service", "", "service SID (VA…)")
		fs.StringVar(&o.identity, "identity", "", "entity identity")
		fs.StringVar(&o.token, "token", "", "enrollment access token from POST …/AccessTokens")
		fs.StringVar(&o.name, "name", "verifyd device", "factor friendly name")
		fs.StringVar(&o.platform, "platform", "none", "notification platform: none, fcm or apn")
		fs.StringVar(&o.pushToken, "push-token", "", "notification token (required unless platform none)")
		fs.StringVar(&o.metadata, "metadata", "", `factor metadata, a JSON object of strings, e.g. {"os":"Android"}`)
		fs.BoolVar(&o.force, "force", false, "overwrite an existing state file")
	case "challenges":
		fs.StringVar(&o.status, "status", "", "only this status: pending, approved, denied or expired")
		fs.StringVar(&o.order, "order", "desc", "asc or desc by creation date")
		fs.IntVar(&o.pageSize, "page-size", 50, "challenges per page")
		fs.StringVar(&o.pageToken, "page-token", "", "page token from a previous listing")
	case "approve", "deny":
		fs.BoolVar(&o.wait, "wait", false, "wait for the next pending challenge instead of naming one")
		fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "how long --wait waits")
		fs.DurationVar(&o.poll, "poll", time.Second, "how often --wait polls")
	}
	return fs
}

// parseAll parses flags anywhere among the arguments (the flag package
// stops at the first positional one) and returns the positionals.
func parseAll(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args, stdout); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// deviceCommand runs "verifyd device …".
func deviceCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := &deviceFlags{state: "./verifyd-device.json"}
	global := o.flagSet("", stderr)
	if err := parseFlags(global, args, stdout); err != nil {
		return err
	}
	if global.NArg() == 0 {
		fmt.Fprint(stderr, deviceUsage)
		return errors.New("device: missing command")
	}
	sub := global.Arg(0)
	switch sub {
	case "enroll", "verify", "challenges", "approve", "deny", "show", "delete":
	default:
		fmt.Fprint(stderr, deviceUsage)
		return fmt.Errorf("device: unknown command %q", sub)
	}
	pos, err := parseAll(o.flagSet(sub, stderr), global.Args()[1:], stdout)
	if err != nil {
		return err
	}
	if err := o.checkArgs(sub, pos); err != nil {
		return fmt.Errorf("device %s: %w", sub, err)
	}
	hc, err := o.httpClient()
	if err != nil {
		return fmt.Errorf("device: %w", err)
	}
	c := &device.Client{HTTP: hc}
	if sub == "enroll" {
		return o.enroll(ctx, c, stdout)
	}
	st, err := device.Load(o.state)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("device %s: no state file %s: run \"verifyd device enroll\" first", sub, o.state)
	}
	if err != nil {
		return fmt.Errorf("device: %w", err)
	}
	c.State = st
	err = o.act(ctx, c, sub, pos, stdout, stderr)
	if sub != "delete" || err != nil {
		// Save even after a failure: a 401 may have taught the device a
		// clock correction, which the SDK persists at once.
		if serr := st.Save(o.state); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return fmt.Errorf("device %s: %w", sub, err)
	}
	return nil
}

func (o *deviceFlags) checkArgs(sub string, pos []string) error {
	want := 0
	if (sub == "approve" || sub == "deny") && !o.wait {
		want = 1
		if len(pos) == 0 {
			return errors.New("name a challenge SID or use --wait")
		}
	}
	if len(pos) != want {
		return fmt.Errorf("unexpected arguments %q (see verifyd device -h)", pos)
	}
	if sub == "enroll" && (o.url == "" || o.service == "" || o.identity == "" || o.token == "") {
		return errors.New("--url, --service, --identity and --token are required")
	}
	if sub == "enroll" && o.platform != "none" && o.pushToken == "" {
		return fmt.Errorf("--platform %s needs --push-token", o.platform)
	}
	return nil
}

// httpClient honours --insecure and --ca: a development server's
// self-signed certificate (serve --tls-self-signed) is either accepted
// blindly or trusted explicitly.
func (o *deviceFlags) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.insecure}
	if o.ca != "" {
		pem, err := os.ReadFile(o.ca)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s holds no PEM certificate", o.ca)
		}
		cfg.RootCAs = pool
	}
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

func (o *deviceFlags) enroll(ctx context.Context, c *device.Client, stdout io.Writer) error {
	if _, err := os.Stat(o.state); err == nil && !o.force {
		return fmt.Errorf("device enroll: %s exists (a factor is enrolled); use --force to replace it", o.state)
	}
	var md map[string]string
	if o.metadata != "" {
		if err := json.Unmarshal([]byte(o.metadata), &md); err != nil {
			return fmt.Errorf("device enroll: --metadata: %w", err)
		}
	}
	st, err := c.Enroll(ctx, o.url, o.service, o.identity, o.token, o.name, o.platform, o.pushToken, md)
	if err != nil {
		return fmt.Errorf("device enroll: %w", err)
	}
	if err := st.Save(o.state); err != nil {
		return fmt.Errorf("device enroll: %w", err)
	}
	return o.printState(stdout, st, "enrolled")
}

func (o *deviceFlags) act(ctx context.Context, c *device.Client, sub string, pos []string, stdout, stderr io.Writer) error {
	st := c.State
	switch sub {
	case "verify":
		status, err := c.Verify(ctx)
		if err != nil {
			return err
		}
		if status != "verified" {
			return fmt.Errorf("factor %s is still %s", st.FactorSid, status)
		}
		return o.printState(stdout, st, "verified")
	case "show":
		return o.printState(stdout, st, st.Status)
	case "delete":
		if err := c.Delete(ctx); err != nil {
			return err
		}
		if err := os.Remove(o.state); err != nil {
			return err
		}
		return o.print(stdout, map[string]string{"status": "deleted", "sid": st.FactorSid}, "deleted "+st.FactorSid)
	case "challenges":
		list, err := c.Challenges(ctx, o.status, o.pageSize, o.order, o.pageToken)
		if err != nil {
			return err
		}
		if o.json {
			raws := []json.RawMessage{}
			for _, ch := range list.Challenges {
				raws = append(raws, ch.Raw)
			}
			return o.print(stdout, map[string]any{"challenges": raws, "next_page_token": list.NextPageToken, "previous_page_token": list.PreviousPageToken}, "")
		}
		for _, ch := range list.Challenges {
			fmt.Fprintf(stdout, "%s %s %s %s\n", ch.Sid, ch.Status, ch.ExpirationDate.Format(time.RFC3339), ch.Message)
		}
		if list.NextPageToken != "" {
			fmt.Fprintf(stderr, "more: --page-token %s\n", list.NextPageToken)
		}
		return nil
	default: // approve, deny
		sid := ""
		if o.wait {
			wctx, cancel := context.WithTimeout(ctx, o.timeout)
			ch, err := c.WaitForChallenge(wctx, o.poll)
			cancel()
			if err != nil {
				return err
			}
			sid = ch.Sid
		} else {
			sid = pos[0]
		}
		ch, err := c.Respond(ctx, sid, sub == "approve")
		if err != nil {
			return err
		}
		return o.print(stdout, ch.Raw, ch.Status+" "+ch.Sid)
	}
}

// printState prints "<verb> <factor sid>", or the state without its key.
func (o *deviceFlags) printState(w io.Writer, st *device.State, verb string) error {
	view := *st
	view.PrivateKey = ""
	b, err := json.Marshal(view)
	if err != nil {
		return err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "private_key")
	return o.print(w, m, verb+" "+st.FactorSid)
}

func (o *deviceFlags) print(w io.Writer, v any, line string) error {
	if !o.json {
		_, err := fmt.Fprintln(w, strings.TrimSpace(line))
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
