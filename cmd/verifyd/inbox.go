package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const inboxUsage = `usage: verifyd inbox [--url http://127.0.0.1:4010] [--to TO] [--service VA…] [--limit 10] [--json | --code]

Lists the codes the development sender of a "serve --dev" server received, newest first,
read from its /_verifyd/dev/inbox with the account in VERIFYD_ACCOUNT_SID and
VERIFYD_AUTH_TOKEN (unset: the --dev constants). One line per code: date,
channel, to, code, text; with --code, only the newest code.
`

// inboxCommand prints the development inbox of a running --dev server, so
// that a developer (or a shell script) can finish a classic Verify flow
// without an SMS gateway.
func inboxCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("url", "http://127.0.0.1:4010", "base URL of the server")
	to := fs.String("to", "", "only codes sent to this To")
	service := fs.String("service", "", "only codes of this service")
	limit := fs.Int("limit", 10, "at most this many codes (1-1000)")
	asJSON := fs.Bool("json", false, "print the server's JSON")
	onlyCode := fs.Bool("code", false, "print only the newest code, for a script: CODE=$(verifyd inbox --to +1… --code)")
	pos, help, err := parseCommand(fs, args, inboxUsage, stdout, stderr)
	if err != nil || help {
		return err
	}
	if len(pos) > 0 {
		fmt.Fprint(stderr, inboxUsage)
		return usageError{err: fmt.Errorf("inbox: unexpected argument %q", pos[0])}
	}
	sid, token := getenv("VERIFYD_ACCOUNT_SID"), getenv("VERIFYD_AUTH_TOKEN")
	if sid == "" && token == "" {
		sid, token = DevAccountSid, DevAuthToken // serve --dev's constants
	}
	q := url.Values{"PageSize": {strconv.Itoa(*limit)}}
	if *to != "" {
		q.Set("To", *to)
	}
	if *service != "" {
		q.Set("ServiceSid", *service)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *base+"/_verifyd/dev/inbox?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	req.SetBasicAuth(sid, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("inbox: %s has no development inbox: is it running with --dev?", *base)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("inbox: the server answered %s: %s", resp.Status, body)
	}
	if *asJSON {
		_, err := stdout.Write(append(body, '\n'))
		return err
	}
	var out struct {
		Messages []struct {
			Channel, To, Code, Text string
			DateCreated             time.Time `json:"date_created"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if *onlyCode {
		if len(out.Messages) == 0 {
			return fmt.Errorf("inbox: no code yet")
		}
		_, err := fmt.Fprintln(stdout, out.Messages[0].Code)
		return err
	}
	for _, m := range out.Messages {
		fmt.Fprintf(stdout, "%s  %-8s %-20s %s  %s\n", m.DateCreated.Format(time.RFC3339), m.Channel, m.To, m.Code, m.Text)
	}
	return nil
}
