#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder of untrusted bytes (issue 23), with
# cargo-fuzz and libFuzzer on the nightly toolchain.
#
#   scripts/fuzz.sh                 every target, 60 s each, one after another
#   scripts/fuzz.sh wire_json 1800  one target for 30 minutes
#   scripts/fuzz.sh all 600         every target, 10 minutes each
#   scripts/fuzz.sh opaque 1800 10000000
#                                   stop at 10 million executions or 30 minutes,
#                                   whichever comes first (issue 23's bar)
#
# Each target starts from its committed seeds in fuzz/corpus/<target>/ (read
# only) plus what earlier runs found in fuzz/target/corpus/<target>/ (kept, not
# committed). One libFuzzer process at a time. A crash stops the run: its input
# is in fuzz/artifacts/<target>/, and `cargo +nightly fuzz run <target> <file>`
# (from fuzz/) replays it. At the end, executions per target are printed.
#
# Installs the nightly toolchain (`--profile minimal`) and cargo-fuzz when they
# are missing. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"

# What is missing is installed first (crates.io and rustup only).
if ! cargo +nightly --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

target="${1:-all}"
seconds="${2:-60}"
runs="${3:--1}"
case "$seconds" in
  '' | *[!0-9]*) echo "seconds must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
case "$runs" in
  -1) ;;
  '' | *[!0-9]*) echo "executions must be a whole number, not '$runs'" >&2; exit 2 ;;
esac

mapfile -t all < <(cargo +nightly fuzz list)
if [ "$target" = all ]; then
  targets=("${all[@]}")
else
  found=no
  for t in "${all[@]}"; do [ "$t" = "$target" ] && found=yes; done
  if [ "$found" = no ]; then
    echo "no fuzz target '$target'; there are: ${all[*]}" >&2
    exit 2
  fi
  targets=("$target")
fi

# Without AddressSanitizer: the code is safe Rust, and the runs are several
# times faster. Release build with debug assertions and overflow checks.
# One job: the build shares the machine.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
if [ "${#targets[@]}" -eq 1 ]; then
  cargo +nightly fuzz build -s none "${targets[0]}"
else
  cargo +nightly fuzz build -s none
fi

summary=()
status=0
for t in "${targets[@]}"; do
  work="target/corpus/$t"
  mkdir -p "$work" "corpus/$t" "artifacts/$t"
  log="target/fuzz-$t.log"
  echo "== $t: ${seconds}s"
  set +e
  cargo +nightly fuzz run -s none "$t" "$work" "corpus/$t" -- \
    -max_total_time="$seconds" -runs="$runs" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  # The time taken: less than asked when the executions ran out first.
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    result="no crash"
  else
    result="CRASH (exit $rc), see $log and artifacts/$t/"
    status=1
    tail -40 "$log"
  fi
  line="$t: ${execs:-?} executions in ${took:-$seconds}s (${speed:-?}/s, coverage ${cov:-?}), $result"
  echo "$line"
  summary+=("$line")
done

echo
echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ))"
printf '%s\n' "${summary[@]}"
exit "$status"
