#!/usr/bin/env bash
# Does the embedded study reproduce the paper's findings across seeds? Runs the demo with three seeds,
# then the arms recipe (QA data, template, length schedule, QA share, corpus quality, stable budget,
# instruction data, a Qwen-like base) into the same
# folder, which skips every stage the two share; times both and pastes the Findings into BENCHMARKS.md.
#   bash bench/fidelity.sh                       RL, the probe and evaluation per seed; mid-training shared
#   PER_SEED=training bash bench/fidelity.sh     mid-training per seed too (runs/fidelity-training)
#   ARMS=0 ...                                   the 3-seed demo only
# After `make install`, on an idle machine; a re-run skips finished stages.
set -euo pipefail
cd "$(dirname "$0")/.."
per_seed=${PER_SEED:-rl}
octo=.venv/bin/octo
out=runs/fidelity$([ "$per_seed" = rl ] || echo "-$per_seed")
block=fidelity$([ "$per_seed" = rl ] || echo "-$per_seed")
# beside the run folder, not in it: `octo run` takes only a folder it made (or an empty one)
mkdir -p runs
times=runs/$block-times.md
echo "Machine at the start: \`$(uptime)\`; $(nproc) cores." > $times
run() {  # label, then the octo run arguments
    local label=$1; shift
    local start=$SECONDS
    $octo run "$@" "seeds=[0,1,2]" per_seed=$per_seed out=$out
    echo "- $label: \`octo run $* \"seeds=[0,1,2]\" per_seed=$per_seed out=$out\`, $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s wall" >> $times
}
run "3-seed demo" octothinker/recipes/demo.yaml
if [ "${ARMS:-1}" != 0 ]; then
    run "arms (after the 3-seed demo)" octothinker/recipes/demo-arms.yaml
fi
.venv/bin/python scripts/paste_results.py $times BENCHMARKS.md --block $block-times
.venv/bin/python scripts/paste_results.py $out BENCHMARKS.md --block $block
cat $times
