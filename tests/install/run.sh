#!/usr/bin/env bash
# The installed lmlab as another project sees it: `cmake --install` into a temporary prefix, a
# consumer CMake project (consumer/) built with find_package(lmlab) against it and run, the
# installed CLI run, and the installed Python package imported from elsewhere without PYTHONPATH
# pointing into the build tree. Usage: run.sh BUILD_DIR [PYTHON]
set -euo pipefail
build=$(cd "$1" && pwd)
python=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$here/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/consumer/consumer" | tee "$work/consumer.out"
grep -q "^consumer: lmlab ok" "$work/consumer.out"

"$work/prefix/bin/lmlab" list | grep -q "foundation.teacher_student"

if [ -n "$python" ]; then
  site=$(find "$work/prefix" -name '_lmlab*.so' -printf '%h\n' | head -1)
  [ -n "$site" ] || { echo "no installed Python extension under $work/prefix"; exit 1; }
  (cd "$work" && PYTHONPATH="$(dirname "$site")" "$python" -c \
    "import lmlab, torch; assert lmlab.__file__.startswith('$work'), lmlab.__file__; print('python: lmlab', lmlab.__version__)")
fi
echo "install: ok"
