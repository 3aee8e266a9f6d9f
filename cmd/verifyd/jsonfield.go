package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const jsonUsage = `usage: verifyd json PATH [FILE]

Prints one value of a JSON document (FILE, or standard input): PATH is
keys and array indexes joined by dots, e.g. sid, binding.secret or
send_code_attempts.0.attempt_sid. Strings print bare, anything else as
JSON. For shell scripts without jq:

  export YF=$(curl -s … | ./verifyd json sid)
`

// jsonCommand is "verifyd json": the quick start's way to take a SID out
// of an answer without a tool the reader may not have.
func jsonCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, jsonUsage)
		return nil
	}
	if len(args) < 1 || len(args) > 2 {
		fmt.Fprint(stderr, jsonUsage)
		return usagef("json: want PATH [FILE]")
	}
	in := io.Reader(os.Stdin)
	if len(args) == 2 && args[1] != "-" {
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var v any
	if err := json.NewDecoder(in).Decode(&v); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	for _, key := range strings.Split(args[0], ".") {
		switch x := v.(type) {
		case map[string]any:
			val, ok := x[key]
			if !ok {
				return fmt.Errorf("json: no %q in %s", key, args[0])
			}
			v = val
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return fmt.Errorf("json: no index %q in %s", key, args[0])
			}
			v = x[i]
		default:
			return fmt.Errorf("json: %s goes past a %T", args[0], v)
		}
	}
	if s, ok := v.(string); ok {
		_, err := fmt.Fprintln(stdout, s)
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}
