#!/usr/bin/env bash
# setup.sh - install groupcast's build dependencies (Debian/Ubuntu) and build it.
# Usage: scripts/setup.sh [BUILD_DIR] [extra cmake args...]   (default build dir: build)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config clang libclang-rt-14-dev
          libzmq3-dev libczmq-dev libprotobuf-c-dev protobuf-c-compiler
          uuid-dev libsqlite3-dev sqlite3 libedit-dev
          protobuf-compiler python3 python3-zmq python3-protobuf gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi

build=${1:-build}
shift || true
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" -j"$(nproc)"
