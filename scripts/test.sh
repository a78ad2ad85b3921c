#!/usr/bin/env bash
# test.sh - install dependencies, build with warnings as errors, and run every test; then the
# same under AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build -DGC_WERROR=ON
ctest --test-dir build --output-on-failure -j2
scripts/setup.sh build-asan -DGC_WERROR=ON -DGC_SANITIZE=ON -DCMAKE_C_COMPILER=clang
ctest --test-dir build-asan --output-on-failure -j2
