#!/usr/bin/env bash
# Run the fuzzing campaign of rebatesim (fuzz/README.md) and print its counts table.
#
#   fuzz/run_campaign.sh [--seconds T | --count N] [--seed S] [--timeout SECS] [--mem-mb MB]
#                        [--corpus DIR] [--findings DIR] [--json FILE]
#
# Defaults: seed 1, 2,000 generated cases after the corpus and the special files, 10 s per
# case, a 1,024 MB heap cap. Findings (panics, hangs, over-memory, crashes) are written under
# fuzz/findings/CLASS/TARGET/ (not committed) as corpus entries; replay one folder with
# `fuzz/run_campaign.sh --corpus fuzz/findings/panic --count 0`.
# Exit status 0 when nothing but results and clean errors came out, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --example fuzz_campaign
exec target/release/examples/fuzz_campaign "$@"
