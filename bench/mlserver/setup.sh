#!/usr/bin/env sh
# Installs MLServer with its scikit-learn runtime into .tools/mlserver/venv for `npm run bench:gateway`'s
# comparison (the bench skips the comparison when this venv is absent).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
python3 -m venv "$root/.tools/mlserver/venv"
"$root/.tools/mlserver/venv/bin/pip" install -q mlserver==1.7.1 mlserver-sklearn==1.7.1
