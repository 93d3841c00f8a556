#!/usr/bin/env bash
# Serve a model with vLLM's OpenAI-compatible server, set up for Ananke's grammars.
#
#   deploy/vllm/serve.sh MODEL [more `vllm serve` flags...]
#   arc generate "..." --constraints FILE.ariadne --backend vllm --url http://HOST:8000
#
# HOST (0.0.0.0), PORT (8000) and MAX_MODEL_LEN (8192) come from the environment;
# VLLM_API_KEY, when set, is the key clients must send (arc sends it as a bearer token).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 MODEL [vllm serve flags...]" >&2
    exit 2
fi
model=$1
shift

# --structured-outputs-config.backend guidance: the grammars `arc emit --target vllm`
#   prints are llguidance's Lark (greedy lexemes, `&` and `~` in terminals, bounded
#   repeats). With the default backend (`auto`) vLLM hands a Lark grammar to XGrammar,
#   which refuses some of these constructs and reads others with another meaning, and a
#   client cannot tell from the response which backend ran it.
# --generation-config vllm: ignore the model's generation_config.json, so that the
#   temperature and limits arc sends are the ones applied.
exec vllm serve "$model" \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --max-model-len "${MAX_MODEL_LEN:-8192}" \
    --structured-outputs-config.backend guidance \
    --generation-config vllm \
    "$@"
