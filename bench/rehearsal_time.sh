#!/usr/bin/env bash
# `octo run octothinker/recipes/octothinker-1b.yaml --rehearse`, timed from an empty folder (nothing of
# the recipe's corpora or benchmarks there, a fresh model cache: the GGUF is de-quantized inside the
# time), as `make test` runs it. Pastes the wall time and where it went into BENCHMARKS.md (block
# rehearsal-1b). Run it on an idle machine, from the repository root, after `make install`.
#   bash bench/rehearsal_time.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/octo-rehearsal-XXXX)
cd "$work"
load=$(uptime)
start=$SECONDS
OCTO_CACHE="$work/cache" HF_HUB_OFFLINE=1 "$repo/.venv/bin/octo" run "$repo/octothinker/recipes/octothinker-1b.yaml" \
    --rehearse --out "$work/rehearsal" > "$work/rehearsal.log" 2>&1
end=$SECONDS
times=$work/rehearsal-time.md
{
    echo "\`octo run octothinker/recipes/octothinker-1b.yaml --rehearse\` from an empty folder at commit $(git -C "$repo" rev-parse --short HEAD) (\`bash bench/rehearsal_time.sh\`; $("$repo/.venv/bin/python" -c "import torch; print(torch.backends.cpu.get_cpu_capability())") kernels), \`uptime\` before it: \`$load\`:"
    echo "**$(( (end - start) / 60 )) min $(( (end - start) % 60 )) s wall**, the GGUF's conversion and every stage included. By the manifest's stage times:"
    echo
    "$repo/.venv/bin/python" "$repo/scripts/stage_times.py" "$work/rehearsal/run"
    echo
    echo "What it scaled down, as it says itself:"
    echo
    grep "scaled down:" "$work/rehearsal.log" | sed 's/^ *scaled down: /- /'
} > "$times"
"$repo/.venv/bin/python" "$repo/scripts/paste_results.py" "$times" "$repo/BENCHMARKS.md" --block rehearsal-1b
cat "$times"
