#!/usr/bin/env bash
# Grade the same predictions with agentscale (v4.1 mode) and the official SWE-bench harness
# (swebench 4.1.0 from PyPI, in a virtual environment this script makes) on the same images,
# side by side, and compare the verdicts per instance.
#
#   scripts/compare-swebench-harness.sh [--instance-ids ID...] [--predictions gold|FILE]...
#                                       [--repos DIR] [--dataset FILE] [--workers N]
#
# Defaults: the 16 instances whose mirrors are in ../shared/datasets/swe-bench-verified/repos,
# graded with the gold patches and with the mini-swe-agent Gemini 3 Pro predictions of
# ../shared/runs/. The images are agentscale's offline images (`images build-swe --repos`),
# tagged under the names the official harness looks for (swebench/sweb.eval.x86_64.<id>), so
# that it builds and pulls nothing; the tags are removed at the end.
#
# One difference in where the official harness reads from, none in how it grades: it
# downloads requirement files from GitHub while preparing each instance, which no machine
# here can reach; scripts/official_harness.py serves those files from the same mirrors on a
# loopback port (see that file).
#
# Output: per instance and predictions file, both verdicts and both grading times (ours: the
# instance's own wall time from container start to removal; official: the first to the last
# line of its run_instance.log), then the last line
#   verdicts matched: X of Y; median grading time ours A s, official B s
# Exit status 0 when every verdict matched, 1 otherwise, 2 on bad usage. KEEP_WORK=1 keeps the
# working folder (both sides' logs and reports) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED="${AGENTSCALE_SHARED:-$ROOT/../shared}"
DATASET="$SHARED/datasets/swe-bench-verified/test-00000-of-00001.parquet"
JSONL=""
REPOS="$SHARED/datasets/swe-bench-verified/repos"
WORKERS=2
IDS=()
PREDS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --instance-ids) shift; while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do IDS+=("$1"); shift; done; continue ;;
    --predictions) PREDS+=("${2:?--predictions needs a value}"); shift ;;
    --repos) REPOS="${2:?--repos needs a value}"; shift ;;
    --dataset) DATASET="${2:?--dataset needs a value}"; shift ;;
    --workers) WORKERS="${2:?--workers needs a value}"; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-swebench-harness: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -d "$REPOS" ] || { echo "compare-swebench-harness: no mirror folder at $REPOS" >&2; exit 2; }
[ ${#IDS[@]} -gt 0 ] || read -r -a IDS <<<"$(tr '\n' ' ' < "$REPOS/instances.txt")"
[ ${#PREDS[@]} -gt 0 ] || PREDS=(gold "$SHARED/runs/swe-bench-verified/mini-v1.15.0-gemini-3-pro/preds.json")

BIN="${AGENTSCALE_BIN:-$ROOT/target/release/agentscale}"
if [ ! -x "$BIN" ]; then
  echo "compare-swebench-harness: building $BIN" >&2
  cargo build --release --quiet
fi
VENV="${AGENTSCALE_VENV_DIR:-$HOME/.cache/agentscale/venvs}/swebench-4.1.0"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import swebench' 2>/dev/null; then
  echo "compare-swebench-harness: installing swebench==4.1.0 into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "swebench==4.1.0"
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/compare-swebench.XXXXXX")
TAGGED=()
cleanup() {
  for t in "${TAGGED[@]}"; do docker rmi "$t" >/dev/null 2>&1 || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "compare-swebench-harness: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The official harness reads .json/.jsonl files: a Parquet dataset is given to it as the JSON
# Lines file beside it (../shared has both, with the same 500 rows).
case "$DATASET" in
  *.parquet) JSONL="$(dirname "$DATASET")/swe-bench-verified.jsonl" ;;
  *) JSONL="$DATASET" ;;
esac
[ -f "$JSONL" ] || { echo "compare-swebench-harness: the official harness needs $DATASET as JSON Lines ($JSONL)" >&2; exit 2; }

echo "== images (agentscale build-swe, offline)" >&2
"$BIN" images build-swe --dataset "$DATASET" --repos "$REPOS" --instance-ids "${IDS[@]}" --json >"$WORK/images.json"
while read -r id image; do
  official="swebench/sweb.eval.x86_64.$(echo "${id//__/_1776_}" | tr 'A-Z' 'a-z'):latest"
  if [ "$image" != "$official" ]; then
    docker tag "$image" "$official"
    TAGGED+=("$official")
  fi
done < <(python3 -c 'import json,sys; [print(r["instance_id"], r["image"]) for r in json.load(open(sys.argv[1]))["images"] if r["image"]]' "$WORK/images.json")

n=0
for preds in "${PREDS[@]}"; do
  n=$((n+1))
  tag="cmp$n-$(date +%s)"
  echo "== predictions $preds: agentscale" >&2
  "$BIN" -q grade --dataset "$DATASET" --repos "$REPOS" --no-pull --instance-ids "${IDS[@]}" \
    --predictions "$preds" --mode v4.1 --run-id "$tag" --output "$WORK/ours" --concurrency "$WORKERS" --json \
    >"$WORK/ours-$n.json"
  echo "== predictions $preds: official harness" >&2
  (cd "$WORK" && "$VENV/bin/python" "$ROOT/scripts/official_harness.py" --repos "$REPOS" -- \
     --dataset_name "$JSONL" --predictions_path "$preds" --instance_ids "${IDS[@]}" \
     --run_id "$tag" --namespace swebench --max_workers "$WORKERS" --cache_level instance \
     --timeout 1800 --report_dir "$WORK/official-$n" >"$WORK/official-$n.log" 2>&1) || {
    echo "compare-swebench-harness: the official harness failed; last lines:" >&2
    tail -n 20 "$WORK/official-$n.log" >&2
  }
  echo "$preds $tag" >>"$WORK/runs.txt"
done

python3 - "$WORK" "${IDS[@]}" <<'PY'
import datetime, glob, json, pathlib, statistics, sys
work = pathlib.Path(sys.argv[1]); ids = sys.argv[2:]
def official_seconds(log):
    stamps = []
    for line in pathlib.Path(log).read_text(errors="replace").splitlines():
        try:
            stamps.append(datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f"))
        except ValueError:
            pass
    return (stamps[-1] - stamps[0]).total_seconds() if len(stamps) >= 2 else None
matched = total = 0
ours_t, off_t = [], []
print(f"{'predictions':<12} {'instance':<34} {'ours':<10} {'official':<10} {'ours s':>7} {'off. s':>7}  match")
for n, line in enumerate((work / "runs.txt").read_text().splitlines(), 1):
    preds, tag = line.rsplit(" ", 1)
    label = "gold" if preds == "gold" else pathlib.Path(preds).parent.name[:12]
    ours = json.loads((work / f"ours-{n}.json").read_text())
    ours_res = set(ours.get("resolved_ids", []))
    # The harness writes its run report into its working directory: <model>.<run_id>.json.
    reports = glob.glob(str(work / f"*.{tag}.json"))
    off = json.loads(pathlib.Path(reports[0]).read_text()) if reports else {}
    off_res = set(off.get("resolved_ids", []))
    for i in ids:
        o = "resolved" if i in ours_res else "no"
        f = ("resolved" if i in off_res else "no") if reports else "missing"
        g = work / "ours" / tag / i / "grade.json"
        ot = None
        if g.exists():
            ot = json.loads(g.read_text()).get("timings", {}).get("total_ms")
            ot = ot / 1000 if ot is not None else None
        logs = glob.glob(str(work / "logs" / "run_evaluation" / tag / "*" / i / "run_instance.log"))
        ft = official_seconds(logs[0]) if logs else None
        if ot is not None: ours_t.append(ot)
        if ft is not None: off_t.append(ft)
        ok = o == f
        matched += ok; total += 1
        fmt = lambda x: f"{x:7.1f}" if x is not None else "      -"
        print(f"{label:<12} {i:<34} {o:<10} {f:<10} {fmt(ot)} {fmt(ft)}  {'yes' if ok else 'NO'}")
med = lambda v: f"{statistics.median(v):.1f}" if v else "-"
print(f"verdicts matched: {matched} of {total}; median grading time ours {med(ours_t)} s, official {med(off_t)} s")
sys.exit(0 if matched == total and total > 0 else 1)
PY
