#!/usr/bin/env bash
# Serve a GGUF model with llama.cpp's server for Ananke.
#
#   deploy/llamacpp/serve.sh MODEL.gguf [more llama-server flags...]
#   arc generate "..." --constraints FILE.ariadne --backend llamacpp --url http://HOST:8080
#
# HOST (0.0.0.0), PORT (8080) and CTX (8192, the context size) come from the environment;
# LLAMA_SERVER names the llama-server binary (default: the one on PATH).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 MODEL.gguf [llama-server flags...]" >&2
    exit 2
fi
model=$1
shift

# No grammar flag: arc sends the GBNF grammar in each request's `grammar` field, which
# llama.cpp's own grammar engine enforces; a server built with llguidance
# (build-with-llguidance.sh) also takes grammars that start with `%llguidance`.
exec "${LLAMA_SERVER:-llama-server}" \
    --model "$model" \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8080}" \
    --ctx-size "${CTX:-8192}" \
    "$@"
