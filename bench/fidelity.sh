#!/usr/bin/env bash
# Does the embedded study reproduce the paper's findings across seeds? Runs the demo with three RL seeds
# (the mid-trained models are shared; RL, the probe and evaluation run per seed), then the arms recipe
# (corpus quality, stable budget, instruction data, a Qwen-like base) into the same folder, which skips
# every stage the two share; times both and pastes the Findings into BENCHMARKS.md.
#   bash bench/fidelity.sh        (after `make install`, on an idle machine; a re-run skips finished stages)
set -euo pipefail
cd "$(dirname "$0")/.."
octo=.venv/bin/octo
out=runs/fidelity
mkdir -p $out
times=$out/times.md
echo "Machine at the start: \`$(uptime)\`; $(nproc) cores." > $times
run() {  # label, then the octo run arguments
    local label=$1; shift
    local start=$SECONDS
    $octo run "$@" "seeds=[0,1,2]" per_seed=rl out=$out
    echo "- $label: \`octo run $*\`, $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s wall" >> $times
}
run "3-seed demo" octothinker/recipes/demo.yaml
run "arms (after the 3-seed demo)" octothinker/recipes/demo-arms.yaml
.venv/bin/python scripts/paste_results.py $times BENCHMARKS.md --block fidelity-times
.venv/bin/python scripts/paste_results.py $out BENCHMARKS.md --block fidelity
cat $times
