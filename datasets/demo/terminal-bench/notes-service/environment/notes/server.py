"""A tiny notes service: GET /notes lists the lines of notes.txt as JSON, GET /health says ok."""

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOTES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.txt")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body, kind = b"ok\n", "text/plain"
        elif self.path == "/notes":
            with open(NOTES, encoding="utf-8") as f:
                notes = [line.rstrip("\n") for line in f if line.strip()]
            body, kind = json.dumps({"notes": notes}).encode(), "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    a = p.parse_args()
    ThreadingHTTPServer((a.host, a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
