#!/usr/bin/env bash
# Compile the seed example, then generate against a vLLM server: run.sh URL [OUT_DIR]
set -euo pipefail
url="${1:?usage: run.sh URL [OUT_DIR]}"
out="${2:-.}"
here="$(cd "$(dirname "$0")" && pwd)"
arc compile "$here/../api_handler.ariadne" -o "$out/compiled.cir"
arc generate "return the user's id" --constraints "$out/compiled.cir" \
    --inference-url "$url" --output-format json
