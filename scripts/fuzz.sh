#!/usr/bin/env bash
# Runs the libFuzzer programs built by `make fuzz`: fuzz.sh BUILD_DIR SECONDS NAME...
# For each NAME: fuzz for SECONDS from tests/fuzz/corpus/NAME (new inputs go to BUILD_DIR/corpus/NAME),
# merge the inputs that reach new code back into tests/fuzz/corpus/NAME, save any crash in
# tests/fuzz/crashes/NAME/, and print the number of executions. Exits 1 if a target crashed.
set -uo pipefail
# Leaks inside LibTorch (its registries, and what its archive reader drops on a corrupt file) are
# LibTorch's, suppressed as in `make sanitize`; a leak in lmlab's own code is still a finding.
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
build=$1 seconds=$2
shift 2
status=0
for name in "$@"; do
  program="$build/lmlab_${name}_fuzz"
  corpus="tests/fuzz/corpus/$name" work="$build/corpus/$name" crashes="tests/fuzz/crashes/$name/"
  mkdir -p "$corpus" "$work" "$crashes"
  echo "fuzz $name: ${seconds}s from $(ls "$corpus" | wc -l) inputs"
  if ! "$program" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 -artifact_prefix="$crashes" \
       -close_fd_mask=1 "$work" "$corpus" > "$build/$name.log" 2>&1; then
    echo "fuzz $name: CRASH, input saved in $crashes; the end of $build/$name.log:" >&2
    tail -30 "$build/$name.log" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/$name.log" | sed "s/^/fuzz $name: /"
  "$program" -merge=1 "$corpus" "$work" > "$build/$name.merge.log" 2>&1 || true
  echo "fuzz $name: $(ls "$corpus" | wc -l) inputs in $corpus"
done
exit $status
