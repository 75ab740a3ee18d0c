#!/usr/bin/env python3
"""Run the official SWE-bench harness (swebench 4.1.0) on this machine, offline.

    official_harness.py --repos DIR -- <run_evaluation arguments>

The harness downloads requirement files from GitHub's raw-file host while it builds each
instance's environment script (pallets/flask, pylint-dev/pylint, ...), even when the images
exist. This wrapper serves those files from the local repository mirrors (DIR/<owner>__<name>.git,
`git show <commit>:<path>`) on a loopback port and points the harness's `SWE_BENCH_URL_RAW` at
it. That changes only where the harness downloads from, never how it grades. Everything else is
`python -m swebench.harness.run_evaluation` unchanged.
"""
import argparse
import http.server
import pathlib
import runpy
import subprocess
import sys
import threading


def serve(repos: pathlib.Path) -> str:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # /<owner>/<name>/<commit>/<path...>
            parts = self.path.lstrip("/").split("/", 3)
            if len(parts) < 4:
                self.send_error(404)
                return
            owner, name, commit, path = parts
            mirror = repos / f"{owner}__{name}.git"
            r = subprocess.run(["git", "--git-dir", str(mirror), "show", f"{commit}:{path}"],
                               capture_output=True)
            if r.returncode != 0:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(r.stdout)))
            self.end_headers()
            self.wfile.write(r.stdout)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", required=True, type=pathlib.Path)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    url = serve(a.repos.resolve())
    import swebench.harness.constants as constants
    import swebench.harness.test_spec.python as python_spec

    constants.SWE_BENCH_URL_RAW = url + "/"
    python_spec.SWE_BENCH_URL_RAW = url + "/"
    rest = [x for x in a.rest if x != "--"]
    sys.argv = ["run_evaluation"] + rest
    runpy.run_module("swebench.harness.run_evaluation", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
