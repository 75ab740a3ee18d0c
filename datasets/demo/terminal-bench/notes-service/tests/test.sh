#!/bin/bash
# Verifier: run tests/test_outputs.py offline with the image's own pytest and write the
# reward (1 when every test passes, else 0) to /logs/verifier/reward.txt.
mkdir -p /logs/verifier
if [ "$PWD" = "/" ]; then
  echo "Error: no working directory set; the task's Dockerfile must set WORKDIR" >&2
  echo 0 > /logs/verifier/reward.txt
  exit 1
fi
python3 -m pytest -rA -p no:cacheprovider /tests/test_outputs.py
if [ $? -eq 0 ]; then
  echo 1 > /logs/verifier/reward.txt
else
  echo 0 > /logs/verifier/reward.txt
fi
