import hashlib
import json
import time
import urllib.request

SERVER_SHA256 = "0431a0bbceee55ef9e02dd115dd4b8cdb509ceafa3033b0fe8ee0e1f54ffeff8"
URL = "http://127.0.0.1:8080"


def get(path):
    last = None
    for _ in range(20):
        try:
            with urllib.request.urlopen(URL + path, timeout=5) as r:
                return r.read().decode()
        except OSError as e:
            last = e
            time.sleep(0.25)
    raise AssertionError(f"the notes service does not answer on {URL}: {last}")


def test_server_unchanged():
    with open("/app/notes/server.py", "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == SERVER_SHA256


def test_service_is_running():
    assert get("/health").strip() == "ok"


def test_notes_are_served_with_the_new_one_last():
    notes = json.loads(get("/notes"))["notes"]
    assert notes == ["buy milk", "water the plants", "deploy done"]
