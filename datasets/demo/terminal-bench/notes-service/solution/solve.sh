#!/bin/bash
# Oracle: add the note, start the service detached from this shell, wait until it answers.
set -euo pipefail
echo "deploy done" >> /app/notes/notes.txt
setsid nohup python3 /app/notes/server.py --port 8080 > /tmp/notes.log 2>&1 < /dev/null &
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=1)" 2>/dev/null && exit 0
  sleep 0.1
done
echo "the notes service did not start; its log:" >&2
cat /tmp/notes.log >&2
exit 1
