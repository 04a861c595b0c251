#!/usr/bin/env bash
# Install docker-compose 1.29.2 into its own virtualenv (default .venv/compose)
# for the offline compose-file check in tests/stack/test_validators.py.
#
# PyYAML 5.4.1 (docker-compose needs <6) has no wheel for Python 3.11 and its
# setup.py breaks under Cython 3, so it is built first, without build
# isolation, against Cython 0.29.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${1:-.venv/compose}
if [ -x "$venv/bin/docker-compose" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "cython==0.29.37" "wheel==0.45.1" "setuptools==75.8.0"
"$venv/bin/pip" install --quiet --no-build-isolation "PyYAML==5.4.1"
"$venv/bin/pip" install --quiet -r tests/stack/requirements-compose.txt
"$venv/bin/docker-compose" version --short
