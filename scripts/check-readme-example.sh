#!/usr/bin/env bash
# Builds and starts the sample app, runs the curl printed in README.md, and checks the reply.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-3217}"
npm run build:sample >/dev/null
PORT="$PORT" node dist-sample/main.js >/tmp/nestjs-batch-sample.log 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -s -o /dev/null "http://localhost:$PORT/todos" && break
  sleep 0.2
done

# The README's example: the lines between the markers, with the port of this run.
example=$(awk '/<!-- example:start -->/ { inside = 1 } /<!-- example:end -->/ { inside = 0 }
  inside && /^```/ { fenced = !fenced; next } inside && fenced' README.md)
reply=$(bash -c "${example//localhost:3000/localhost:$PORT}")
echo "$reply"
node -e '
  const reply = JSON.parse(process.argv[1]);
  const codes = reply.data.map((entry) => entry && entry.code);
  const expected = [201, 200, 200, 403, 400];
  if (JSON.stringify(codes) !== JSON.stringify(expected)) {
    console.error(`README example: expected codes ${expected}, got ${codes}`);
    process.exit(1);
  }
  console.log("README example answered as documented:", codes.join(" "));
' "$reply"
