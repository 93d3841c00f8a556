#!/usr/bin/env bash
# Build llama.cpp's server with llguidance (needs git, cmake, a C++ compiler, and Rust's
# cargo for llguidance).
#
#   deploy/llamacpp/build-with-llguidance.sh [DIR]   # default DIR: ./llama.cpp
#
# Then LLAMA_SERVER=DIR/build/bin/llama-server deploy/llamacpp/serve.sh MODEL.gguf
set -euo pipefail

dir=${1:-llama.cpp}
if [[ ! -d $dir ]]; then
    git clone --depth 1 https://github.com/ggml-org/llama.cpp "$dir"
fi
# LLAMA_LLGUIDANCE: grammars that start with `%llguidance` (and JSON schemas) go to
# llguidance; GBNF grammars still go to llama.cpp's own engine.
cmake -S "$dir" -B "$dir/build" -DLLAMA_LLGUIDANCE=ON -DCMAKE_BUILD_TYPE=Release
cmake --build "$dir/build" --config Release -j --target llama-server
echo "built $dir/build/bin/llama-server"
