#!/usr/bin/env bash
# Serve a model with SGLang for Ananke.
#
#   deploy/sglang/serve.sh MODEL [more sglang.launch_server flags...]
#   arc generate "..." --constraints FILE.ariadne --backend sglang --url http://HOST:30000
#
# HOST (0.0.0.0) and PORT (30000) come from the environment.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 MODEL [sglang.launch_server flags...]" >&2
    exit 2
fi
model=$1
shift

# --grammar-backend xgrammar: `arc emit --target sglang` prints XGrammar's EBNF in the
#   `ebnf` field, which the xgrammar backend (SGLang's default, named here so that a
#   changed default cannot change the meaning) compiles. SGLang's llguidance backend
#   reads llguidance's Lark instead (a grammar that starts with `%llguidance {}`); see
#   deploy/README.md.
exec python3 -m sglang.launch_server \
    --model-path "$model" \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-30000}" \
    --grammar-backend xgrammar \
    "$@"
