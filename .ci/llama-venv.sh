#!/usr/bin/env bash
# Builds llama.cpp's OpenAI-compatible server (llama-cpp-python[server],
# compiled from source) into a virtual environment outside the repository,
# once per machine. Prints the venv's python on success.
#   LAWBRAIN_LLAMA_VENV  where the venv lives (default ~/.cache/lawbrain/llama-venv)
set -euo pipefail
VERSION="0.3.36"
VENV="${LAWBRAIN_LLAMA_VENV:-$HOME/.cache/lawbrain/llama-venv}"
STAMP="$VENV/.lawbrain-llama-cpp-python-$VERSION"
if [ -f "$STAMP" ] && "$VENV/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
# CPU build of the library only: no examples, tests, tools or multimodal code.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=ON}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
echo "building llama-cpp-python $VERSION from source (several minutes, once per machine)" >&2
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-binary llama-cpp-python \
  "llama-cpp-python[server]==$VERSION" >&2
"$VENV/bin/python" -c "import llama_cpp.server" >&2
touch "$STAMP"
echo "$VENV/bin/python"
