#!/usr/bin/env bash
# RL-Zero raising held-out accuracy on a CPU: mid-train a policy from the demo, probe it, run GRPO,
# then score the start and the end on the held-out problems, greedy and sampled.
#   make demo && bash bench/rl_heldout/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
octo=.venv/bin/octo
here=bench/rl_heldout
test -d runs/demo/stable/final || { echo "runs/demo is missing: run 'make demo' first" >&2; exit 1; }
$octo midtrain $here/policy.yaml
policy=runs/rl-heldout/midtrain/decay-short/final
template=$'Question: {question}\nAnswer:'
$octo probe $policy --prompts runs/demo/world/problems/test.jsonl --k 8 --limit 64 --template "$template" \
    --max-new-tokens 144 --out runs/rl-heldout/probe.json
$octo rl $here/rl.yaml --policy $policy
for name in start:$policy end:runs/rl-heldout/rl/final; do
    for sampling in "greedy:--temperature 0" "sampled:--temperature 1.0 --n 4"; do
        $octo eval run ${name#*:} --benchmarks "synth=runs/demo/world/problems/test.jsonl" --mode zero-shot \
            --template "$template" --max-new-tokens 144 ${sampling#*:} --out runs/rl-heldout/${sampling%%:*}/${name%%:*}
    done
done
echo "held-out accuracy over RL steps (4 samples a problem at temperature 1):"
cat runs/rl-heldout/rl/eval.jsonl
