#!/usr/bin/env bash
# The README's promise, timed: `make demo` on a fresh clone of this repository's HEAD (venv, install,
# whole study), with nothing beside it, as a user has it. Pastes the wall time and where it went into BENCHMARKS.md
# (block demo-time) and the run's findings into README.md (block demo). Run it on an idle machine.
#   bash bench/demo_time.sh
#   ATEN_CPU_CAPABILITY=avx2 bash bench/demo_time.sh     torch's AVX2 kernels on an AVX-512 machine
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/octo-demo-XXXX)
git clone -q "$repo" "$work/octothinker"
cd "$work/octothinker"
load=$(uptime)
start=$SECONDS
make demo-install > "$work/install.log" 2>&1  # what `make demo` installs first
installed=$SECONDS
make demo > "$work/demo.log" 2>&1
end=$SECONDS
times=$work/demo-time.md
{
    kernels=${ATEN_CPU_CAPABILITY:+, torch kernels forced to \`ATEN_CPU_CAPABILITY=$ATEN_CPU_CAPABILITY\`}
    echo "\`make demo\` on a fresh clone of commit $(git rev-parse --short HEAD) (clone, venv, install, whole study; \`bash bench/demo_time.sh\`$kernels), \`uptime\` before it: \`$load\`:"
    echo "**$(( (end - start) / 60 )) min $(( (end - start) % 60 )) s wall**: the install $(( installed - start )) s, the study $(( (end - installed) / 60 )) min $(( (end - installed) % 60 )) s. By the manifest's stage times:"
    echo
    .venv/bin/python scripts/stage_times.py runs/demo
} > "$times"
.venv/bin/python scripts/paste_results.py "$times" "$repo/BENCHMARKS.md" --block demo-time
.venv/bin/python scripts/paste_results.py runs/demo "$repo/README.md" --block demo
cat "$times"
