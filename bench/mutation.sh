#!/usr/bin/env bash
# Mutation testing of the modules the study's conclusions rest on, each against only the tests that cover
# it: mutmut (3.x) makes small changes to a module one at a time (an operator, a constant, a comparison)
# and runs those tests on each; a change no test notices is a bug the suite would let through. Prints
# each module's kill ratio and its surviving mutants. mutmut, not cosmic-ray: mutmut runs the tests in
# one warm pytest process and forks it for each mutant, so torch and the package are imported once a
# module instead of once a mutant (cosmic-ray starts its test command afresh for each, seconds apiece
# here), which keeps the whole list within about an hour on 2 cores.
#   bash bench/mutation.sh                              every module below
#   bash bench/mutation.sh eval/stats                   one module, after you change it
#   bash bench/mutation.sh runs/seeds=tests/runs/test_seeds.py    a module against the tests you name
#   KEEP=1 bash bench/mutation.sh data/shards           keep the work folder, to read a survivor's change
#                                                       there: (cd FOLDER/data-shards && mutmut show NAME)
# Needs mutmut: pip install -e ".[mutation]".
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
mutmut=$(dirname "$python")/mutmut

# module (under octothinker/) = the tests that cover it
declare -A TESTS=(
    [rl/grpo]="tests/rl/test_grpo.py tests/rl/test_grpo_properties.py"
    [midtrain/schedule]="tests/midtrain/test_schedule.py"
    [data/shards]="tests/data/test_shards.py"
    [data/mixture]="tests/data/test_components.py tests/data/test_mixture.py"
    [tasks/grading]="tests/tasks/test_grading.py tests/tasks/test_adversarial.py tests/tasks/test_grading_workers.py"
    [tasks/extract]="tests/tasks/test_extract.py tests/tasks/test_adversarial.py"
    [tasks/scoring]="tests/tasks/test_adversarial.py tests/tasks/test_rewards.py"
    [tasks/rewards]="tests/tasks/test_rewards.py"
    [eval/stats]="tests/eval/test_stats.py"
    [report/findings]="tests/report/test_collect.py tests/report/test_findings.py"
    [runs/seeds]="tests/runs/test_seeds.py"
)
ORDER="rl/grpo midtrain/schedule data/shards data/mixture tasks/grading tasks/extract tasks/scoring tasks/rewards eval/stats report/findings runs/seeds"

if [ $# -eq 0 ]; then set -- $ORDER; fi
for arg in "$@"; do
    module=${arg%%=*}
    if [ ! -f "$repo/octothinker/$module.py" ] || { [ "$arg" = "$module" ] && [ -z "${TESTS[$module]:-}" ]; }; then
        echo "$module: unknown module, or no tests named for it (MODULE=TESTS)" >&2
        exit 2
    fi
done
if [ ! -x "$mutmut" ]; then
    echo "mutmut is not installed: pip install -e \".[mutation]\"" >&2
    exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/octo-mutation-XXXX")
if [ -n "${KEEP:-}" ]; then echo "work folder (kept): $work"; else trap 'rm -rf "$work"' EXIT; fi
echo "load before: $(cut -d' ' -f1 /proc/loadavg); mutmut $("$python" -c 'import importlib.metadata as m; print(m.version("mutmut"))')"
summary=()
for arg in "$@"; do
    module=${arg%%=*}
    tests=${TESTS[$module]:-}
    [ "$arg" != "$module" ] && tests=${arg#*=}
    tests=${tests//,/ }
    copy=$work/${module//\//-}
    mkdir -p "$copy"
    (cd "$repo" && git ls-files -co --exclude-standard octothinker tests pyproject.toml | tar -cf - -T -) | tar -xf - -C "$copy"
    selection=$(printf '"%s", ' $tests)
    # the rest of the package beside the mutated module (mutmut copies only what it mutates)
    printf '\n[tool.mutmut]\nsource_paths = ["octothinker/%s.py"]\nalso_copy = ["octothinker"]\npytest_add_cli_args_test_selection = [%s]\n' \
        "$module" "${selection%, }" >> "$copy/pyproject.toml"
    start=$SECONDS
    (cd "$copy" && "$mutmut" run > "$copy/run.log" 2>&1) || { echo "$module: mutmut failed, see its log:"; tail -20 "$copy/run.log"; exit 1; }
    results=$(cd "$copy" && "$mutmut" results --all true 2>/dev/null | grep -E '^\s+\S+: ' || true)
    total=$(grep -c . <<< "$results" || true)
    killed=$(grep -cE ': (killed|timeout)$' <<< "$results" || true)
    ratio=$(awk -v k="$killed" -v t="$total" 'BEGIN { printf "%.1f", t ? 100 * k / t : 0 }')
    line=$(printf '%-18s %4d of %4d killed  %5s%%  (%d s; tests: %s)' "$module" "$killed" "$total" "$ratio" $((SECONDS - start)) "$tests")
    echo "$line"
    summary+=("$line")
    grep -vE ': (killed|timeout)$' <<< "$results" | sed 's/^ */    not killed: /' || true
done
echo
echo "kill ratio by module:"
printf '%s\n' "${summary[@]}"
