#!/usr/bin/env bash
# The README's blocks about the 1B recipe, made by the commands they show (run from the repository root
# with the venv's `octo` on PATH): plan-1b (`octo run ... --plan`) and slurm-1b (`octo run ... --emit slurm`).
set -euo pipefail
recipe=octothinker/recipes/octothinker-1b.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
octo run "$recipe" --plan > "$tmp/plan.md"
python scripts/paste_results.py "$tmp/plan.md" README.md --block plan-1b
folder=$(octo run "$recipe" --emit slurm | sed -e 's/^wrote //' -e 's|/submit.sh$||')
{
  echo "\`octo run $recipe --emit slurm\` writes \`runs/octothinker-1b/slurm/\`: \`submit.sh\`, and one script a stage, for example the stable data (curation on datatrove's Slurm executor: this job submits its array jobs and waits), the stable stage and the long branch's RL (the scripts hold the checkout's absolute path, shown here as \`/path/to/octothinker\`):"
  echo
  echo '```bash'
  echo '# submit.sh'
  cat "$folder/submit.sh"
  echo
  for stage in data.stable stable rl-long; do
    script=$(ls "$folder" | grep -E "^[0-9]+-$stage\.sbatch$")
    echo "# $script"
    cat "$folder/$script"
  done
  echo '```'
} | sed "s|$(pwd)|/path/to/octothinker|g" > "$tmp/slurm.md"  # this machine's path is no reader's
python scripts/paste_results.py "$tmp/slurm.md" README.md --block slurm-1b
