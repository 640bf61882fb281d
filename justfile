# Every developer and user entry point. `just --list` shows them all.
set shell := ["bash", "-euo", "pipefail", "-c"]

venv := ".venv"
py := venv / "bin/python"
bin := venv / "bin"

# Show the recipes.
default:
    @just --list

# Create .venv and install both packages editable with their test extras (idempotent).
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    [ -x {{py}} ] || python3 -m venv {{venv}}
    stamp={{venv}}/.setup-stamp
    if [ -f "$stamp" ] && [ "$stamp" -nt packages/skelprep/pyproject.toml ] && [ "$stamp" -nt packages/stgnode/pyproject.toml ]; then
        exit 0
    fi
    # Keep a torch the user installed (a CUDA build, say); otherwise take the CPU build 2.13.0.
    {{py}} -c "import torch" 2>/dev/null || {{py}} -m pip install -q "torch==2.13.0"
    {{py}} -m pip install -q -e "packages/skelprep[test]" -e "packages/stgnode[test]"
    touch "$stamp"

# `just demo --seeds 0,1,2` trains one run per seed and prints their mean and spread.
# Synthesize a small NTU-format set, build its store, train and evaluate STG-NODE on CPU.
demo *args: setup
    {{bin}}/python pipelines/demo.py {{args}}

# Run the whole test suite.
test: setup
    {{bin}}/python -m pytest -q {{ if env_var_or_default("CI", "") != "" { "-p no:cacheprovider" } else { "" } }}

# Lint and format check with ruff.
lint: setup
    {{bin}}/ruff check .
    {{bin}}/ruff format --check .

# Format the code in place.
fmt: setup
    {{bin}}/ruff format .
    {{bin}}/ruff check --fix .

# Run every benchmark under pipelines/.
bench: bench-build bench-dtw bench-model bench-loader

bench-build: setup
    {{bin}}/python pipelines/bench_build.py

# Not in `just bench`: about 25 minutes and up to 16 GB of synthetic raw files at a time.
# Full builds at 1x, 2x, 4x the bench-build set and NTU60 size; `just bench-scale --scales 1,2`.
bench-scale *args: setup
    {{bin}}/python pipelines/bench_scale.py {{args}}

bench-dtw: setup
    {{bin}}/python pipelines/bench_dtw.py

bench-model: setup
    {{bin}}/python pipelines/bench_model.py

bench-loader: setup
    {{bin}}/python pipelines/bench_loader.py

# Train the four variants on the demo store and write the ablation table.
ablation: setup
    {{bin}}/python pipelines/ablation.py

# Options pass through: `just real-msr --seeds 0,1,2`, `just real-msr --model st-gcn`.
# MSR Action3D (real data) cross-subject: build, train one model on 4 streams, evaluate, fuse.
real-msr *args: setup
    {{bin}}/python pipelines/real_msr.py {{args}}

# Own data: real recordings exported to the folder format, aligned vs --no-align, then `stgnode predict`.
own-data *args: setup
    {{bin}}/python pipelines/own_data.py {{args}}

# Options pass through: `just real-ucla --seeds 0,1,2`, `just real-ucla --model st-gcn`.
# NW-UCLA (real data) cross-view: build, train one model on 4 streams, fuse; xview and xview-dedup.
real-ucla *args: setup
    {{bin}}/python pipelines/real_ucla.py {{args}}

# Remove the virtual environment, data, runs and caches.
clean:
    rm -rf {{venv}} data runs .pytest_cache .ruff_cache .hypothesis
    find . -name __pycache__ -type d -prune -exec rm -rf {} +
