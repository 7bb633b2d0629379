#!/usr/bin/env bash
# Side-by-side: `lawbrain bench llm` (candle) and llama.cpp (llama-cpp-python
# built from source) on the same GGUF, the same rendered prompt and the same
# thread count. Not part of CI: the first run builds llama.cpp (~7 minutes).
#
# Usage: bench/llamacpp.sh [THREADS] [GEN_TOKENS]
#   LAWBRAIN_BENCH_VENV  venv for llama-cpp-python (default: $XDG_CACHE_HOME/lawbrain/bench-venv, outside the repo)
#   LAWBRAIN_MODEL       GGUF to compare (default: the default profile's file)
#   LAWBRAIN_BIN         lawbrain binary to run (default: `cargo run --quiet --`)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${1:-$(nproc)}"
GEN="${2:-150}"
CACHE="${LAWBRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lawbrain}"
VENV="${LAWBRAIN_BENCH_VENV:-$CACHE/bench-venv}"
MODEL="${LAWBRAIN_MODEL:-$CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}"
DATA="${LAWBRAIN_DATA:-data}"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  echo "building llama-cpp-python from source into $VENV (once) ..."
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --upgrade pip >/dev/null
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$VENV/bin/python" -m pip install --no-binary llama-cpp-python llama-cpp-python
fi

echo "== candle (lawbrain bench llm, $THREADS threads)"
${LAWBRAIN_BIN:-cargo run --quiet --} bench llm --model "$MODEL" --threads "$THREADS" --gen-tokens "$GEN" --runs 3
PROMPT="$DATA/bench/llm_prompt.txt"

echo "== llama.cpp (llama-cpp-python, $THREADS threads)"
"$VENV/bin/python" - "$MODEL" "$PROMPT" "$THREADS" "$GEN" <<'PY'
import resource, sys, time
from llama_cpp import Llama
model, prompt_file, threads, gen = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = time.time()
llm = Llama(model_path=model, n_ctx=4096, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False)
print(f"load: {(time.time() - t0) * 1000:.0f} ms")
text = open(prompt_file, encoding="utf-8").read()
toks = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
pps, tgs, ttfts = [], [], []
for run in range(3):
    llm.reset()
    t0 = time.time()
    llm.eval(toks)
    t_prompt = time.time() - t0
    n, last = 0, None
    t1 = time.time()
    ttft = None
    while n < gen:
        tok = llm.sample(temp=0.0, repeat_penalty=1.0, top_k=1)
        if ttft is None:
            ttft = (time.time() - t0) * 1000
        if llm.token_eos() == tok or tok in (151643, 151645):
            break
        n += 1
        llm.eval([tok])
    t_gen = time.time() - t1
    pps.append(len(toks) / t_prompt); tgs.append(max(n - 1, 0) / t_gen if t_gen > 0 else 0); ttfts.append(ttft)
    print(f"run {run + 1}: prompt {len(toks)} tok, {pps[-1]:.1f} tok/s; gen {n} tok, {tgs[-1]:.1f} tok/s; ttft {ttft:.0f} ms")
med = lambda v: sorted(v)[len(v) // 2]
print("---")
print(f"prompt tok/s p50: {med(pps):.1f}")
print(f"gen tok/s p50: {med(tgs):.1f}")
print(f"ttft p50 (cold): {med(ttfts):.0f} ms")
print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
PY
