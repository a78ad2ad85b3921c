#!/usr/bin/env bash
# demo.sh - install, build, and run a local groupcast: a registry and a group named "lobby".
# Chat from two other terminals (see the lines printed below). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build >/dev/null
bin=$PWD/build/src
demo=${GROUPCAST_DEMO_DIR:-$(mktemp -d /tmp/groupcast-demo.XXXXXX)}
port=${GROUPCAST_PORT:-5555}

"$bin/groupcast-server" --bind "tcp://127.0.0.1:$port" &
server=$!
trap 'kill $group $server 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
"$bin/groupcast-group" --name lobby --server "tcp://127.0.0.1:$port" --data "$demo/lobby" &
group=$!

cat <<MSG

groupcast demo is running: registry tcp://127.0.0.1:$port, group "lobby" (data in $demo).
In two other terminals, chat as two users:

  terminal 1:  $bin/groupcast --home $demo/alice --name alice join lobby
               $bin/groupcast --home $demo/alice shell
  terminal 2:  $bin/groupcast --home $demo/bob --name bob join lobby
               $bin/groupcast --home $demo/bob shell

Type a line to send it; /help lists commands. Or one-shot:
  $bin/groupcast --home $demo/bob listen
  $bin/groupcast --home $demo/alice send lobby hello
  $bin/groupcast --home $demo/alice history lobby --last 10

Ctrl-C here stops the demo.
MSG
wait $group
