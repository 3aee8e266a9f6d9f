#!/usr/bin/env bash
# Builds verifyd, starts it on a scratch database, and runs the twilio-node
# TOTP, push-webhook and classic (--dev) flows against it. Used by CI; needs Go, Node.js and the npm registry.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

(cd "$here/../.." && go build -o "$work/verifyd" ./cmd/verifyd)
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

export VERIFYD_ACCOUNT_SID=AC00000000000000000000000000000001
export VERIFYD_AUTH_TOKEN=nodeExampleToken0123456789abcdef
port=$(( 20000 + RANDOM % 20000 ))
"$work/verifyd" serve --dev --addr "127.0.0.1:$port" --db "$work/verifyd.db" >"$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  grep -q "listening" "$work/out.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening" "$work/out.log" || { cat "$work/out.log"; exit 1; }

VERIFYD_URL="http://127.0.0.1:$port" TWILIO_ACCOUNT_SID=$VERIFYD_ACCOUNT_SID TWILIO_AUTH_TOKEN=$VERIFYD_AUTH_TOKEN \
  node "$here/totp-flow.mjs"
VERIFYD_URL="http://127.0.0.1:$port" TWILIO_ACCOUNT_SID=$VERIFYD_ACCOUNT_SID TWILIO_AUTH_TOKEN=$VERIFYD_AUTH_TOKEN \
  node "$here/push-webhook.mjs"
VERIFYD_URL="http://127.0.0.1:$port" TWILIO_ACCOUNT_SID=$VERIFYD_ACCOUNT_SID TWILIO_AUTH_TOKEN=$VERIFYD_AUTH_TOKEN \
  node "$here/classic-flow.mjs"
