package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/verifyd/verify/otp"
)

// totpCode prints the current code of a base32 secret, so the README's quick
// start can be followed with curl alone, without an authenticator app.
func totpCode(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("totp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	p := otp.Params{}
	fs.StringVar(&p.Alg, "alg", "sha1", "hash: sha1, sha256 or sha512")
	fs.IntVar(&p.Digits, "digits", 6, "code length, 3-8")
	fs.IntVar(&p.Period, "period", 30, "time step in seconds")
	offset := fs.Int("offset", 0, "print the code this many time steps from now (1 = the next code)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: verifyd totp [--alg sha1] [--digits 6] [--period 30] [--offset 0] BASE32SECRET")
	}
	secret, err := otp.DecodeSecret(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	at := time.Now().Add(time.Duration(*offset*p.Period) * time.Second)
	code, err := otp.Code(secret, at, p)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, code)
	return nil
}
