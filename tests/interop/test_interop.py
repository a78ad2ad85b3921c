#!/usr/bin/python3
"""test_interop - the C groupcast and the Python client (groupcast_client.py) in one group

SPDX-License-Identifier: MPL-2.0

Starts the real C groupcast-server and groupcast-group on 127.0.0.1 with port * (reading their
READY lines), runs the real C `groupcast` CLI with --home in a temp directory, and the Python
client, as a library and as a command. Checks that both see each other's messages live and in
history with identical fields; that malformed requests encoded in Python get the status and
error text the C group and registry give; that Python's send batches (SendBatch) are stored,
acknowledged, refused and retried by the C group as the protocol says; and that both clients
decode messages carrying fields they do not know (a "newer peer" written here in Python answers
with extra fields in every message, and takes the C CLI's bursts of sends, batched or not).

Usage: test_interop.py --bin-dir <dir of groupcast binaries> --pb2-dir <dir of groupcast_pb2.py>
Every wait has a deadline; only the processes started here are stopped. Prints one line per
case and "N passed, N failed"; exits 1 if any case failed.
"""

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

sys.dont_write_bytecode = True

DEADLINE_S = 15.0           # for a READY line, a command, or an expected output line
# What a clean process never prints: czmq's leaked-socket notice and sanitizer reports.
DIRTY_MARKERS = ("dangling", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                 "runtime error:", "Segmentation fault")

args = None                 # parsed command line
gc = None                   # the groupcast_client module (imported once pb2 is on the path)
pb = None                   # groupcast_pb2


class Failure(Exception):
    """A check that failed; the message says what was expected and what came."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def check_eq(got, want, what):
    if got != want:
        raise Failure("%s: got %r, want %r" % (what, got, want))


# -- protobuf by hand: fields a newer peer might send ----------------------------------------

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_fixed64(number, value):
    return varint(number << 3 | 1) + value.to_bytes(8, "little")


def field_fixed32(number, value):
    return varint(number << 3 | 5) + value.to_bytes(4, "little")


# Unknown to every groupcast.v1 message: one field of each wire type still in use.
EXTRA = (field_varint(99, 7) + field_bytes(100, b"from a newer version")
         + field_fixed64(101, 0x0102030405060708) + field_fixed32(5000, 0xCAFE))


def with_extra(message, repeated=()):
    """`message` packed with EXTRA appended, and with the repeated message fields named in
    `repeated` (name, field number) re-encoded so that each element carries EXTRA too."""
    copy = type(message)()
    copy.CopyFrom(message)
    tail = b""
    for name, number in repeated:
        for item in getattr(message, name):
            tail += field_bytes(number, item.SerializeToString() + EXTRA)
        copy.ClearField(name)
    return copy.SerializeToString() + tail + EXTRA


# -- processes --------------------------------------------------------------------------------

class Proc:
    """A process started by this test, its stdout and stderr read line by line by two threads.
    stop() ends it (SIGTERM, then SIGKILL after a deadline)."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.argv = argv
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=env)
        self.queues = {"out": queue.Queue(), "err": queue.Queue()}
        self.text = {"out": [], "err": []}
        self.threads = [threading.Thread(target=self._read, args=(key, stream), daemon=True)
                        for key, stream in (("out", self.popen.stdout),
                                            ("err", self.popen.stderr))]
        for t in self.threads:
            t.start()

    def _read(self, key, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.text[key].append(line)
            self.queues[key].put(line)
        self.queues[key].put(None)

    def wait_line(self, key, pred, timeout=DEADLINE_S):
        """The next line of stdout ("out") or stderr ("err") for which pred(line) is true;
        raises Failure at the deadline or at end of stream."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("%s: no line on std%s within %.0f s; stderr:\n%s"
                              % (self.name, key, timeout, "\n".join(self.text["err"][-20:])))
            try:
                line = self.queues[key].get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.queues[key].put(None)   # stays at end of stream for the next wait
                raise Failure("%s: std%s ended while waiting for a line; stderr:\n%s"
                              % (self.name, key, "\n".join(self.text["err"][-20:])))
            if pred(line):
                return line

    def stop(self):
        """Ends the process if it still runs and returns its exit status (None if it had to be
        killed)."""
        killed = False
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
                killed = True
        for t in self.threads:
            t.join(timeout=DEADLINE_S)
        self.popen.stdout.close()
        self.popen.stderr.close()
        return None if killed else self.popen.returncode


def dirty_lines(text):
    return [line for line in text.splitlines() if any(m in line for m in DIRTY_MARKERS)]


class System:
    """The test's temp directory, the C registry and group, and every process started."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gc-interop-")
        self.procs = []
        self.dirty = []             # (process name, line) of every unclean output seen
        self.env = dict(os.environ, GROUPCAST_PB2_DIR=args.pb2_dir, PYTHONDONTWRITEBYTECODE="1")
        self.env.pop("GROUPCAST_SERVER", None)
        self.env.pop("GROUPCAST_HOME", None)
        self.server_ep = None
        self.group_ep = None
        self.pub_ep = None
        self.c_members = set()      # C users known to have joined ops

    def start(self, name, argv):
        proc = Proc(name, argv, self.env)
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        """Stops one of our processes; returns its exit status and records unclean output."""
        rc = proc.stop()
        self.dirty += [(proc.name, line) for line in dirty_lines("\n".join(proc.text["err"]))]
        if proc in self.procs:
            self.procs.remove(proc)
        return rc

    def start_core(self):
        server = self.start("registry", [os.path.join(args.bin_dir, "groupcast-server"),
                                         "--bind", "tcp://127.0.0.1:*"])
        self.server_ep = server.wait_line("out", lambda l: l.startswith("READY ")).split()[1]
        group = self.start("group-ops", [
            os.path.join(args.bin_dir, "groupcast-group"), "--name", "ops",
            "--server", self.server_ep, "--bind", "tcp://127.0.0.1:*",
            "--pub", "tcp://127.0.0.1:*", "--data", os.path.join(self.dir, "data", "ops")])
        ready = group.wait_line("out", lambda l: l.startswith("READY ")).split()
        check_eq(len(ready), 3, "group READY line fields")
        self.group_ep, self.pub_ep = ready[1], ready[2]

    def c_argv(self, user, server=None):
        return [os.path.join(args.bin_dir, "groupcast"),
                "--home", os.path.join(self.dir, "users", user),
                "--server", server or self.server_ep]

    def py_argv(self, user, server=None):
        return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "groupcast_client.py"),
                "--home", os.path.join(self.dir, "py", user), "--server",
                server or self.server_ep]

    def run(self, argv, name, stdin=None):
        """Runs a command to completion (killed at the deadline), with `stdin` (bytes) as its
        standard input if given; returns (rc, stdout, stderr)."""
        feed = {"stdin": subprocess.DEVNULL} if stdin is None else {"input": stdin}
        try:
            done = subprocess.run(argv, capture_output=True, env=self.env, timeout=DEADLINE_S,
                                  **feed)
        except subprocess.TimeoutExpired as exc:
            raise Failure("%s did not finish within %.0f s" % (" ".join(argv), DEADLINE_S)) \
                from exc
        out = done.stdout.decode("utf-8", errors="replace")
        err = done.stderr.decode("utf-8", errors="replace")
        self.dirty += [(name, line) for line in dirty_lines(err)]
        return done.returncode, out, err

    def c(self, user, *cmd, server=None, rc=0, stdin=None):
        """Runs the C CLI as `user` (with `stdin`, bytes, as standard input if given); checks
        the exit status; returns (stdout, stderr)."""
        code, out, err = self.run(self.c_argv(user, server) + list(cmd), "groupcast " + cmd[0],
                                  stdin)
        check_eq(code, rc, "exit status of C `groupcast %s` (stderr: %s)"
                 % (" ".join(cmd), err.strip()))
        return out, err

    def py(self, user, *cmd, server=None, rc=0):
        """Runs the Python CLI as `user`; checks the exit status; returns (stdout, stderr)."""
        code, out, err = self.run(self.py_argv(user, server) + list(cmd),
                                  "groupcast_client.py " + cmd[0])
        check_eq(code, rc, "exit status of `groupcast_client.py %s` (stderr: %s)"
                 % (" ".join(cmd), err.strip()))
        return out, err

    def c_member(self, user):
        """Makes C user `user` (display name the same) a member of ops, once."""
        if user not in self.c_members:
            self.c(user, "--name", user, "join", "ops")
            self.c_members.add(user)

    def client(self, name, server=None):
        return gc.Client(server or self.server_ep, gc.Identity.new(name))

    def destroy(self):
        """Stops every process still running and removes the temp directory. Returns the
        unclean lines seen, and processes that did not exit 0."""
        problems = []
        for proc in list(reversed(self.procs)):
            rc = self.stop(proc)
            if rc != 0:
                problems.append("%s exited with %s" % (proc.name, rc))
        problems += ["%s: %s" % (name, line) for name, line in self.dirty]
        shutil.rmtree(self.dir, ignore_errors=True)
        return problems


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def by_seq(lines):
    """JSON lines (dicts) or pb.Entry objects, by seq."""
    return {line["seq"] if isinstance(line, dict) else line.seq: line for line in lines}


def c_whoami(sysm, user):
    out, _ = sysm.c(user, "whoami", "--json")
    return json_lines(out)[0]["id"]


def wait_heartbeat(sub, deliveries, timeout=DEADLINE_S):
    """Reads the subscriber until one Publish frame has arrived (so its SUB connection is up and
    later entries come live); keeps what it delivers meanwhile."""
    deadline = time.monotonic() + timeout
    start = sub.publishes
    while sub.publishes == start:
        check(time.monotonic() < deadline, "no Publish frame (not even a heartbeat) within "
                                           "%.0f s" % timeout)
        got = sub.recv(100)
        if got:
            deliveries.append(got)


def collect(sub, deliveries, seqs, timeout=DEADLINE_S):
    """Reads the subscriber until every seq in `seqs` was delivered; returns {seq: Delivery}."""
    deadline = time.monotonic() + timeout
    while not set(seqs) <= {d.entry.seq for d in deliveries}:
        check(time.monotonic() < deadline, "Python subscriber: seqs %s not all delivered "
                                           "within %.0f s (got %s)"
              % (sorted(seqs), timeout, sorted(d.entry.seq for d in deliveries)))
        got = sub.recv(100)
        if got:
            deliveries.append(got)
    return {d.entry.seq: d for d in deliveries}


def read_json_until(proc, seqs, timeout=DEADLINE_S):
    """Reads JSON lines from a listening process until every seq in `seqs` was printed."""
    found = {}
    deadline = time.monotonic() + timeout
    while not set(seqs) <= set(found):
        line = proc.wait_line("out", lambda l: l.startswith("{"),
                              timeout=max(0.1, deadline - time.monotonic()))
        obj = json.loads(line)
        found[obj["seq"]] = obj
    return found


# -- cases against the C registry and group ------------------------------------------------

def case_groups(sysm):
    """Python and C list the same groups, with the endpoints of the group's READY line."""
    c_list = json_lines(sysm.c("lister", "groups", "--json")[0])
    with sysm.client("lister") as client:
        py_list = [{"name": g.name, "endpoint": g.endpoint, "pub_endpoint": g.pub_endpoint}
                   for g in client.groups()]
        check(client.lookup("ops").last_seen_us > 0, "last_seen_us is set")
    check_eq(py_list, c_list, "Python groups vs C groups --json")
    check_eq(py_list, [{"name": "ops", "endpoint": sysm.group_ep, "pub_endpoint": sysm.pub_ep}],
             "the registered groups")
    cli_list = json_lines(sysm.py("lister", "groups", "--json")[0])
    check_eq(cli_list, c_list, "Python CLI groups --json vs C groups --json")


TEXT_C = 'hello from C: \u00fcml\u00e4ut \u2713 "quoted" back\\slash\ttab'


def case_c_to_python(sysm):
    """C joins and sends; the Python subscriber gets both entries live, Python history has them,
    and every field equals what C `history --json` prints."""
    with sysm.client("pyreader") as client:
        client.join("ops")
        sub = gc.Subscriber(client)
        try:
            sub.add("ops")
            deliveries = []
            wait_heartbeat(sub, deliveries)
            check_eq([d.entry.seq for d in deliveries], [], "entries delivered before C acted")
            check("alice" not in sysm.c_members, "alice joins here first")
            join = json_lines(sysm.c("alice", "--name", "alice", "join", "ops", "--json")[0])[0]
            sysm.c_members.add("alice")
            check(join["joined"] and join["seq"] > 0, "C join made an entry: %r" % join)
            ack = json_lines(sysm.c("alice", "send", "ops", TEXT_C, "--json")[0])[0]
            check_eq(ack["text"], TEXT_C, "C send --json text")
            got = collect(sub, deliveries, [join["seq"], ack["seq"]])
        finally:
            sub.close()
        fetched = by_seq(client.history("ops", after_seq=join["seq"] - 1,
                                        before_seq=ack["seq"] + 1))
    alice = c_whoami(sysm, "alice")
    c_hist = by_seq(json_lines(sysm.c("alice", "history", "ops", "--json")[0]))
    want_join = {"group": "ops", "seq": join["seq"], "ts_us": c_hist[join["seq"]]["ts_us"],
                 "event": "join", "sender": alice, "name": "alice"}
    want_msg = {"group": "ops", "seq": ack["seq"], "ts_us": ack["ts_us"], "sender": alice,
                "name": "alice", "text": TEXT_C}
    for seq, want in ((join["seq"], want_join), (ack["seq"], want_msg)):
        check(got[seq].live, "seq %d reached Python live, not from history" % seq)
        check_eq(gc.entry_json("ops", got[seq].entry), want, "Python live entry %d" % seq)
        check_eq(gc.entry_json("ops", fetched[seq]), want, "Python history entry %d" % seq)
        check_eq(c_hist[seq], want, "C history --json entry %d" % seq)
    check_eq(got[ack["seq"]].entry.kind, pb.ENTRY_MESSAGE, "message kind")
    check_eq(got[join["seq"]].entry.kind, pb.ENTRY_JOIN, "join kind")
    check_eq(got[ack["seq"]].entry.text, TEXT_C.encode(), "message bytes")


TEXT_PY = 'from Python: na\u00efve caf\u00e9 \u2615 "q" \\ {"json": [1]}'


def case_python_to_c(sysm):
    """Python joins and sends; C `listen --json` prints both entries, C `history --json` has
    them, and every field equals the Python acknowledgement and Python history."""
    sysm.c_member("alice")
    listen = sysm.start("c-listen", sysm.c_argv("alice") + ["listen", "ops", "--json"])
    try:
        listen.wait_line("err", lambda l: "listening" in l)
        with sysm.client("pywriter") as client:
            join = client.join("ops")
            ack = client.send("ops", TEXT_PY)
            check(0 < join.seq < ack.seq, "seqs: join %d, send %d" % (join.seq, ack.seq))
            fetched = by_seq(client.history("ops", after_seq=join.seq - 1))
            me = client.identity.id
        live = read_json_until(listen, [join.seq, ack.seq])
    finally:
        rc = sysm.stop(listen)
    check_eq(rc, 0, "C listen exit status after SIGTERM")
    c_hist = by_seq(json_lines(sysm.c("alice", "history", "ops", "--json")[0]))
    want_join = {"group": "ops", "seq": join.seq, "ts_us": join.ts_us, "event": "join",
                 "sender": me, "name": "pywriter"}
    want_msg = {"group": "ops", "seq": ack.seq, "ts_us": ack.ts_us, "sender": me,
                "name": "pywriter", "text": TEXT_PY}
    for seq, want in ((join.seq, want_join), (ack.seq, want_msg)):
        check_eq(live[seq], want, "C listen --json entry %d" % seq)
        check_eq(c_hist[seq], want, "C history --json entry %d" % seq)
        check_eq(gc.entry_json("ops", fetched[seq]), want, "Python history entry %d" % seq)


def case_python_cli(sysm):
    """The Python command line: join, send, listen and fetch print what the C CLI prints."""
    sysm.c_member("alice")
    join = json_lines(sysm.py("pycli", "--name", "pycli", "--json", "join", "ops")[0])[0]
    check_eq(sorted(join), ["group", "joined", "last_seq", "seq"], "join --json keys (as C)")
    check(join["joined"] is True and join["seq"] > 0, "Python CLI join: %r" % join)
    listen = sysm.start("py-listen", sysm.py_argv("pycli") + ["--json", "listen", "ops"])
    try:
        listen.wait_line("err", lambda l: "listening" in l)
        c_ack = json_lines(sysm.c("alice", "send", "ops", "C to the Python CLI", "--json")[0])[0]
        live = read_json_until(listen, [c_ack["seq"]])
    finally:
        rc = sysm.stop(listen)
    check_eq(rc, 0, "Python CLI listen exit status after SIGTERM")
    py_ack = json_lines(sysm.py("pycli", "--json", "send", "ops", "Python", "CLI", "to", "C")[0])[0]
    check_eq(sorted(py_ack), sorted(c_ack), "send --json keys, Python vs C")
    check_eq(py_ack["text"], "Python CLI to C", "Python CLI send text")
    c_hist = json_lines(sysm.c("alice", "history", "ops", "--json")[0])
    py_hist = json_lines(sysm.py("pycli", "--json", "fetch", "ops")[0])
    check(len(c_hist) >= 3, "history has at least this case's entries: %d" % len(c_hist))
    check_eq(py_hist, c_hist, "the whole history: Python CLI fetch --json vs C history --json")
    check_eq(live[c_ack["seq"]], by_seq(c_hist)[c_ack["seq"]], "Python CLI listen line")
    check_eq(by_seq(c_hist)[py_ack["seq"]]["text"], "Python CLI to C", "C sees the CLI's text")
    # A limit: the first entries only.
    paged = json_lines(sysm.py("pycli", "--json", "fetch", "ops", "--limit", "3")[0])
    check_eq(paged, c_hist[:3], "Python CLI fetch --limit 3")


# The bytes test_hostile.c sends for "a body this version does not know": request_id 42, then
# field 99 (length-delimited, empty).
HOSTILE_UNKNOWN = bytes([0x08, 0x2A, 0x9A, 0x06, 0x00])
HOSTILE_GARBAGE = bytes([0xFF, 0xFF, 0xFF, 0x01, 0x02])


def case_malformed_group(sysm):
    """Malformed and unknown requests built in Python get the group's status and error text
    (src/gc_wire.c, docs/protocol.md 2.4), and the group keeps serving."""
    with sysm.client("hostile") as client:
        ep = sysm.group_ep
        reply = client.group_raw(ep, [HOSTILE_GARBAGE])
        check_eq((reply.status, reply.error, reply.request_id, reply.group),
                 (pb.STATUS_BAD_REQUEST, "malformed group request", 0, "ops"), "garbage bytes")

        unknown = pb.GroupRequest(request_id=42).SerializeToString() + field_bytes(99, b"")
        check_eq(unknown, HOSTILE_UNKNOWN, "Python encoding of the unknown body = C test's bytes")
        reply = client.group_raw(ep, [unknown])
        check_eq((reply.status, reply.error, reply.request_id, reply.group),
                 (pb.STATUS_UNKNOWN_REQUEST, "unknown group request", 42, "ops"), "body 99")

        # A full request from a newer client: identity, and a body (field 99) with content.
        request = pb.GroupRequest(request_id=43, sender=client.identity.id,
                                  token=client.identity.token)
        newer = request.SerializeToString() + field_bytes(99, field_varint(1, 1))
        reply = client.group_raw(ep, [newer])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_UNKNOWN_REQUEST, "unknown group request", 43), "identity + body 99")

        reply = client.group_raw(ep, [b""])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_UNKNOWN_REQUEST, "unknown group request", 0), "empty frame")

        reply = client.group_raw(ep, [b"x", b"y", b"z"])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_BAD_REQUEST, "malformed group request", 0), "three frames")

        # Validation failures, body first (docs/protocol.md 3).
        bad = pb.GroupRequest(request_id=44, sender=client.identity.id, token=b"short")
        bad.send.text = b"x"
        reply = client.group_raw(ep, [bad.SerializeToString()])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_BAD_REQUEST, "token must be 16 bytes", 44), "short token")
        bad.send.text = b""
        reply = client.group_raw(ep, [bad.SerializeToString()])
        check_eq((reply.status, reply.error), (pb.STATUS_BAD_REQUEST, "empty message"),
                 "empty text (body checked before token)")
        bad.send.text = b"x" * (gc.MAX_TEXT + 1)
        reply = client.group_raw(ep, [bad.SerializeToString()])
        check_eq((reply.status, reply.error),
                 (pb.STATUS_TOO_LARGE, "message text exceeds 65536 bytes"), "text over 64 KiB")

        info = client.info("ops")
        check_eq((info.group, info.pub_endpoint), ("ops", sysm.pub_ep),
                 "the group still serves Info")


def case_malformed_registry(sysm):
    """The same for the registry's REP socket."""
    with sysm.client("hostile") as client:
        reply = client.registry_raw([HOSTILE_GARBAGE])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_BAD_REQUEST, "malformed registry request", 0), "garbage bytes")
        unknown = pb.RegistryRequest(request_id=42).SerializeToString() + field_bytes(99, b"")
        check_eq(unknown, HOSTILE_UNKNOWN, "Python encoding of the unknown registry body")
        reply = client.registry_raw([unknown])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_UNKNOWN_REQUEST, "unknown registry request", 42), "body 99")
        reply = client.registry_raw([b"a", b"b"])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_BAD_REQUEST, "a request must be one frame", 0), "two frames")
        bad = pb.RegistryRequest(request_id=45, client_id="NOT-A-UUID")
        bad.list_groups.SetInParent()
        reply = client.registry_raw([bad.SerializeToString()])
        check_eq((reply.status, reply.error, reply.request_id),
                 (pb.STATUS_BAD_REQUEST, "client_id is not a UUID", 45), "bad client_id")
        check_eq([g.name for g in client.groups()], ["ops"], "the registry still serves")


def case_same_refusal_as_c(sysm):
    """A refusal reaches a Python user with the same status and text as a C user: C prints
    `groupcast: <the group's error>`, Python gets the status and the error."""
    sysm.c_member("alice")
    carol = c_whoami(sysm, "carol")
    _, c_send = sysm.c("carol", "send", "ops", "not a member", rc=1)
    _, c_fetch = sysm.c("carol", "history", "ops", rc=1)
    check_eq(c_send.strip(), "groupcast: cannot send in group 'ops': %s is not a member" % carol,
             "C refusal text")
    with sysm.client("outsider") as client:
        me = client.identity.id
        for call, c_line in ((lambda: client.send("ops", "not a member"), c_send),
                             (lambda: client.fetch("ops"), c_fetch)):
            try:
                call()
                raise Failure("a non-member's request was accepted")
            except gc.GroupcastError as exc:
                check_eq(exc.status, pb.STATUS_NOT_MEMBER, "status")
                check_eq("groupcast: " + exc.error, c_line.strip().replace(carol, me),
                         "Python error vs C error")
    # Alice's UUID with another token: FORBIDDEN, and nothing is stored.
    alice = c_whoami(sysm, "alice")
    forger = gc.Client(sysm.server_ep, gc.Identity(alice, os.urandom(16), "mallory"))
    with forger:
        try:
            forger.send("ops", "posing as alice")
            raise Failure("a forged token was accepted")
        except gc.GroupcastError as exc:
            check_eq((exc.status, exc.error), (pb.STATUS_FORBIDDEN, "cannot send in group 'ops': "
                                               "%s is bound to another key" % alice), "forged")
    c_hist = json_lines(sysm.c("alice", "history", "ops", "--json")[0])
    check(all(line.get("text") != "posing as alice" for line in c_hist), "forged text stored")


def case_c_group_skips_unknown_fields(sysm):
    """Requests from a newer Python client, with unknown fields in the envelope and inside the
    body, are served by the C group; C history shows the message."""
    sysm.c_member("alice")
    with sysm.client("pyfuture") as client:
        ident = client.identity
        join = pb.GroupRequest(request_id=50, sender=ident.id, token=ident.token)
        join.join.name = "pyfuture"
        frame = with_extra(join)
        reply = client.group_raw(sysm.group_ep, [frame])
        check_eq((reply.status, reply.error, reply.request_id), (pb.STATUS_OK, "", 50),
                 "join with unknown fields")
        # Header fields, unknown fields, then the Send body (field 12) with its own unknown ones.
        send_body = pb.Send(text="with unknown fields".encode()).SerializeToString() + EXTRA
        header = pb.GroupRequest(request_id=51, sender=ident.id, token=ident.token)
        frame = header.SerializeToString() + EXTRA + field_bytes(12, send_body)
        reply = client.group_raw(sysm.group_ep, [frame])
        check_eq((reply.status, reply.error, reply.request_id), (pb.STATUS_OK, "", 51),
                 "send with unknown fields")
        seq = reply.seq
    c_line = by_seq(json_lines(sysm.c("alice", "history", "ops", "--json")[0]))[seq]
    check_eq((c_line["text"], c_line["sender"], c_line["name"]),
             ("with unknown fields", ident.id, "pyfuture"), "C history of that send")


# -- send batches ------------------------------------------------------------------------------

def c_last_seq(sysm, user="alice"):
    """The newest seq C `history --last 1 --json` prints for ops (0: empty)."""
    lines = json_lines(sysm.c(user, "history", "ops", "--last", "1", "--json")[0])
    return lines[-1]["seq"] if lines else 0


def c_history_after(sysm, seq, user="alice"):
    """C `history --json` of ops after `seq`, as a list of dicts."""
    return json_lines(sysm.c(user, "history", "ops", "--after-seq", str(seq), "--json")[0])


def check_contiguous(seqs, first, what):
    check_eq(list(seqs), list(range(first, first + len(seqs))), "%s: seqs" % what)


def case_batch_python_to_c(sysm):
    """Python sends one SendBatch of 50 messages to the C group: the acknowledgement's seqs are
    contiguous in request order and its timestamps strictly ascend; C `history --json` shows
    each message at its seq with its timestamp, and a Python subscriber gets them live, in
    order."""
    sysm.c_member("alice")
    texts = ["batch %02d: %s" % (i, "\u00e9\u2713"[i % 2] * (i % 7) + "x" * i) for i in range(50)]
    with sysm.client("pybatch") as client:
        client.join("ops")
        me = client.identity.id
        sub = gc.Subscriber(client)
        try:
            sub.add("ops")
            deliveries = []
            wait_heartbeat(sub, deliveries)
            ack = client.send_batch("ops", texts)
            collect(sub, deliveries, ack.seqs)
        finally:
            sub.close()
    seqs, ts_list = list(ack.seqs), list(ack.ts_list)
    check_contiguous(seqs, seqs[0], "batch of 50")
    check_eq(ack.last_seq, seqs[-1], "last_seq of the batch ack (nothing else was sent)")
    check(all(a < b for a, b in zip(ts_list, ts_list[1:])), "ts_list strictly ascends: %r"
          % ts_list)
    want = [{"group": "ops", "seq": seq, "ts_us": ts, "sender": me, "name": "pybatch",
             "text": text} for seq, ts, text in zip(seqs, ts_list, texts)]
    check_eq(c_history_after(sysm, seqs[0] - 1), want, "C history --json of the batch")
    live = [d for d in deliveries if d.entry.seq in set(seqs)]
    check_eq([gc.entry_json("ops", d.entry) for d in live], want, "Python subscriber")
    check(all(d.live for d in live), "the batch reached the subscriber live")


def case_batch_refusals(sysm):
    """Malformed SendBatch requests get from the C group the status and error text the Python
    client expects (send_batch_refusal), none of their messages is stored, and the group goes on
    serving: then a Send and the largest valid batches (4096 messages; 1 MiB of text) are
    accepted."""
    sysm.c_member("alice")
    bad, large = pb.STATUS_BAD_REQUEST, pb.STATUS_TOO_LARGE
    full = b"f" * gc.MAX_TEXT                      # 16 of them are 1 MiB, the most a batch holds
    refused = [
        ("no message", [], None, (bad, "a send batch holds at least 2 messages")),
        ("1 message", ["only one"], None, (bad, "a send batch holds at least 2 messages")),
        ("4097 messages", ["m%d" % i for i in range(4097)], None,
         (large, "a send batch holds at most 4096 messages")),
        ("an empty text in the middle", ["first", "", "third"], None, (bad, "empty message")),
        ("1 empty message (messages are checked before the count)", [""], None,
         (bad, "empty message")),
        ("a text over 64 KiB", ["first", b"x" * (gc.MAX_TEXT + 1), "third"], None,
         (large, "message text exceeds 65536 bytes")),
        ("1 MiB + 1 byte of text", [full] * 16 + [b"!"], None,
         (large, "a send batch holds at most 1048576 bytes of text")),
        ("a 15-byte client_msg_id", ["a", "b", "c"], [os.urandom(16), bytes(15), os.urandom(16)],
         (bad, "client_msg_id must be 16 bytes")),
        ("a 17-byte client_msg_id", ["a", "b"], [b"", bytes(17)],
         (bad, "client_msg_id must be 16 bytes")),
    ]
    with sysm.client("pybad") as client:
        client.join("ops")
        before = client.info("ops").last_seq
        check_eq(c_last_seq(sysm), before, "C history's last seq before the refusals")
        for what, texts, ids, want in refused:
            check_eq(gc.send_batch_refusal(texts, ids), want, "Python's expectation for %s" % what)
            try:
                ack = client.send_batch("ops", texts, ids)
                raise Failure("a batch with %s was accepted: seqs %s" % (what, list(ack.seqs)))
            except gc.GroupcastError as exc:
                check_eq((exc.status, exc.error), want, "C group's refusal of %s" % what)
            check_eq(client.info("ops").last_seq, before, "last_seq after refusing %s" % what)
        try:
            client.send_batch("ops", ["a", "b"], [os.urandom(16)])
            raise Failure("send_batch took 1 client_msg_id for 2 messages")
        except ValueError:
            pass
        check_eq(c_last_seq(sysm), before, "C history's last seq after the refusals")
        ack = client.send("ops", "served after the refusals")
        check_eq(ack.seq, before + 1, "seq of the Send after the refusals")
        check_eq(gc.send_batch_refusal(["n%d" % i for i in range(4096)]), None, "4096 messages")
        most = client.send_batch("ops", ["n%d" % i for i in range(4096)])
        check_contiguous(most.seqs, ack.seq + 1, "batch of 4096 messages")
        check_eq(gc.send_batch_refusal([full] * 16), None, "1 MiB of text")
        fullest = client.send_batch("ops", [full] * 16)
        check_contiguous(fullest.seqs, most.seqs[-1] + 1, "batch of 1 MiB")
        me = client.identity.id
    stored = c_history_after(sysm, before)
    check_eq([line["seq"] for line in stored], list(range(before + 1, fullest.seqs[-1] + 1)),
             "C history after the refusals: the Send and the two batches only")
    check(all(line["sender"] == me for line in stored), "every entry is pybad's")
    check_eq([line["text"] for line in stored],
             ["served after the refusals"] + ["n%d" % i for i in range(4096)]
             + [full.decode()] * 16, "C history texts")


def case_batch_retry(sysm):
    """A SendBatch resent with the same client_msg_ids and retry=True is acknowledged with the
    original seqs and timestamps and stored once; a resend that mixes stored ids with new ones
    stores only the new ones, in order, so its seqs are not contiguous."""
    sysm.c_member("alice")
    texts = ["retried %d" % i for i in range(5)]
    ids = [os.urandom(16) for _ in texts]
    new_texts = ["new in the resend %d" % i for i in range(2)]
    new_ids = [os.urandom(16) for _ in new_texts]
    with sysm.client("pyretry") as client:
        client.join("ops")
        me = client.identity.id
        first = client.send_batch("ops", texts, ids)
        check_contiguous(first.seqs, first.seqs[0], "first batch")
        again = client.send_batch("ops", texts, ids, retry=True)
        check_eq((list(again.seqs), list(again.ts_list)), (list(first.seqs), list(first.ts_list)),
                 "the resent batch's acknowledgement")
        check_eq(again.last_seq, first.last_seq, "last_seq after the resend (nothing stored)")
        mixed = client.send_batch("ops", [new_texts[0]] + texts[1:3] + [new_texts[1]],
                                  [new_ids[0]] + ids[1:3] + [new_ids[1]], retry=True)
        check_eq(list(mixed.seqs), [first.last_seq + 1] + list(first.seqs[1:3])
                 + [first.last_seq + 2], "seqs of the mixed resend")
        check_eq(list(mixed.ts_list[1:3]), list(first.ts_list[1:3]),
                 "timestamps of the stored messages in the mixed resend")
        check_eq(mixed.last_seq, first.last_seq + 2, "last_seq after the mixed resend")
    stored = [line for line in c_history_after(sysm, first.seqs[0] - 1) if line["sender"] == me]
    check_eq([(line["seq"], line["text"]) for line in stored],
             list(zip(list(first.seqs) + [mixed.seqs[0], mixed.seqs[3]], texts + new_texts)),
             "C history: each message once, in order")


# -- a newer peer: a registry and group in Python that add unknown fields everywhere ----------

class NewerPeer(threading.Thread):
    """A registry (REP) and a group "newer" (ROUTER + PUB) that speak groupcast.v1 but append
    EXTRA to every message they send, and to every entry, group info and member in them, as a
    later minor version might. Just enough of the protocol for join, leave, send, send_batch
    (checked as the C group checks it, stored all or none and published as one Publish,
    acknowledged with seqs and ts_list; a retried id keeps its original seq), fetch, info,
    members and list_groups, with a heartbeat Publish every 250 ms. Runs in its own thread with
    its own sockets; stop() ends it."""

    NAME = "newer"

    def __init__(self):
        super().__init__(daemon=True)
        self.ready = threading.Event()
        self.halt = threading.Event()
        self.entries = []           # every pb.Entry, seq 1, 2, ...
        self.members = {}           # sender -> pb.Member
        self.seen = []              # body names of the requests served
        self.msg_ids = {}           # (sender, client_msg_id) -> pb.Entry of a message
        self.sends = []             # (sender, body, messages) of every send or batch stored
        self.error = None           # an exception that ended the thread
        self.group_id = str(uuid.uuid4())
        self.registry_ep = self.endpoint = self.pub_endpoint = None

    def stop(self):
        self.halt.set()
        self.join(timeout=DEADLINE_S)

    def run(self):
        zmq = gc.zmq
        ctx = zmq.Context.instance()
        socks = []
        try:
            rep, router, pub = (ctx.socket(kind) for kind in (zmq.REP, zmq.ROUTER, zmq.PUB))
            socks = [rep, router, pub]
            for s in socks:
                s.setsockopt(zmq.LINGER, 0)
                s.bind("tcp://127.0.0.1:*")
            self.registry_ep, self.endpoint, self.pub_endpoint = (
                s.getsockopt_string(zmq.LAST_ENDPOINT) for s in socks)
            self.ready.set()
            poller = zmq.Poller()
            poller.register(rep, zmq.POLLIN)
            poller.register(router, zmq.POLLIN)
            next_beat = 0.0
            while not self.halt.is_set():
                if time.monotonic() >= next_beat:
                    self._publish(pub, [])
                    next_beat = time.monotonic() + 0.25
                for sock, _ in poller.poll(50):
                    if sock is rep:
                        rep.send(self._registry(rep.recv()))
                    else:
                        frames = router.recv_multipart()
                        reply = self._group(frames[-1], pub)
                        router.send_multipart(frames[:-1] + [reply])
        except Exception as exc:  # reported by the case that uses the peer
            self.error = exc
            self.ready.set()
        finally:
            for s in socks:
                s.close(linger=0)

    def _now(self):
        now = int(time.time() * 1e6)
        return max(now, self.entries[-1].ts_us if self.entries else 0)

    def _registry(self, payload):
        request = pb.RegistryRequest()
        request.ParseFromString(payload)
        reply = pb.RegistryReply(request_id=request.request_id)
        if request.WhichOneof("body") == "list_groups":
            reply.groups.add(name=self.NAME, endpoint=self.endpoint,
                             pub_endpoint=self.pub_endpoint, group_id=self.group_id,
                             last_seen_us=self._now())
        else:
            reply.status = pb.STATUS_UNKNOWN_REQUEST
            reply.error = "unknown registry request"
        return with_extra(reply, [("groups", 4)])

    def _append(self, sender, kind, text, pub):
        """Stores one entry and publishes it (unless pub is None). Returns the entry."""
        member = self.members.get(sender)
        entry = pb.Entry(seq=len(self.entries) + 1, ts_us=self._now(), sender=sender,
                         name=member.name if member else "", text=text, kind=kind)
        self.entries.append(entry)
        if pub is not None:
            self._publish(pub, [entry])
        return entry

    def _store_sends(self, sender, sends, pub):
        """Stores the messages `sends` (pb.Send, already checked) in order, publishes the new
        ones as one Publish, and returns the entry each is acknowledged with: a retried id
        already stored gets its original."""
        acked, fresh = [], []
        for send in sends:
            key = (sender, send.client_msg_id)
            if send.client_msg_id and send.retry and key in self.msg_ids:
                acked.append(self.msg_ids[key])
                continue
            entry = self._append(sender, pb.ENTRY_MESSAGE, send.text, None)
            if send.client_msg_id:
                self.msg_ids[key] = entry
            acked.append(entry)
            fresh.append(entry)
        if fresh:
            self._publish(pub, fresh)
        return acked

    def _publish(self, pub, entries):
        message = pb.Publish(group=self.NAME, last_seq=len(self.entries), ts_us=self._now())
        message.entries.extend(entries)
        pub.send_multipart([(self.NAME + "/").encode(), with_extra(message, [("entries", 4)])])

    def _group(self, payload, pub):
        request = pb.GroupRequest()
        request.ParseFromString(payload)
        body = request.WhichOneof("body")
        self.seen.append(body)
        reply = pb.GroupReply(request_id=request.request_id, group=self.NAME,
                              last_seq=len(self.entries))
        first = 1 if self.entries else 0
        if body == "join":
            self.members[request.sender] = pb.Member(id=request.sender, name=request.join.name,
                                                     joined_us=self._now())
            entry = self._append(request.sender, pb.ENTRY_JOIN, b"", pub)
            reply.seq, reply.ts_us = entry.seq, entry.ts_us
            reply.first_seq, reply.pub_endpoint = 1, self.pub_endpoint
        elif body == "leave":
            entry = self._append(request.sender, pb.ENTRY_LEAVE, b"", pub)
            self.members.pop(request.sender, None)
            reply.seq, reply.ts_us = entry.seq, entry.ts_us
        elif body in ("send", "send_batch"):
            sends = [request.send] if body == "send" else list(request.send_batch.sends)
            refusal = (gc.send_refusal(request.send.text, request.send.client_msg_id)
                       if body == "send" else gc.send_batch_refusal(
                           [m.text for m in sends], [m.client_msg_id for m in sends]))
            if refusal:
                reply = pb.GroupReply(request_id=request.request_id, group=self.NAME,
                                      status=refusal[0], error=refusal[1])
                return with_extra(reply)
            acked = self._store_sends(request.sender, sends, pub)
            self.sends.append((request.sender, body, len(sends)))
            if body == "send":
                reply.seq, reply.ts_us = acked[0].seq, acked[0].ts_us
            else:
                reply.seqs.extend(e.seq for e in acked)
                reply.ts_list.extend(e.ts_us for e in acked)
        elif body == "fetch":
            f = request.fetch
            match = [e for e in self.entries if e.seq > f.after_seq
                     and (f.before_seq == 0 or e.seq < f.before_seq)
                     and e.ts_us >= f.since_us and (f.until_us == 0 or e.ts_us < f.until_us)]
            limit = f.limit or gc.FETCH_DEFAULT
            page = match[-limit:] if f.newest else match[:limit]
            reply.entries.extend(page)
            reply.more = len(page) < len(match)
            reply.first_seq = first
        elif body == "info":
            reply.first_seq, reply.pub_endpoint = first, self.pub_endpoint
            reply.member_count = len(self.members)
        elif body == "members":
            reply.members.extend(sorted(self.members.values(), key=lambda m: m.id))
        else:
            reply = pb.GroupReply(request_id=request.request_id, group=self.NAME,
                                  status=pb.STATUS_UNKNOWN_REQUEST, error="unknown group request")
        reply.last_seq = len(self.entries)
        return with_extra(reply, [("entries", 8), ("members", 10)])


def case_python_decodes_unknown_fields(sysm):
    """Python decodes messages that carry unknown fields: each known field keeps its value, the
    unknown ones are kept when the message is packed again, and dropping them gives back the
    message without them."""
    entry = pb.Entry(seq=7, ts_us=1764077001000000, sender=str(uuid.uuid4()), name="n",
                     text=b"t", kind=pb.ENTRY_MESSAGE)
    reply = pb.GroupReply(request_id=3, last_seq=7, first_seq=1, group="ops", more=True)
    reply.entries.append(entry)
    publish = pb.Publish(group="ops", last_seq=7, ts_us=5)
    publish.entries.append(entry)
    info = pb.GroupInfo(name="ops", endpoint="tcp://127.0.0.1:1", pub_endpoint="tcp://h:2",
                        group_id=str(uuid.uuid4()), last_seen_us=9)
    registry = pb.RegistryReply(request_id=4, heartbeat_ms=1000, ttl_ms=5000)
    registry.groups.append(info)
    request = pb.GroupRequest(request_id=5, sender=entry.sender, token=bytes(16))
    request.send.text = b"hi"
    cases = [(reply, [("entries", 8)]), (publish, [("entries", 4)]), (entry, []), (info, []),
             (registry, [("groups", 4)]), (request, [])]
    for message, repeated in cases:
        name = type(message).__name__
        data = with_extra(message, repeated)
        check(len(data) > len(message.SerializeToString()), "%s: extra fields added" % name)
        got = type(message)()
        got.ParseFromString(data)
        for field, value in message.ListFields():
            if field.label != field.LABEL_REPEATED:
                check_eq(getattr(got, field.name), value, "%s.%s" % (name, field.name))
        for field_name, _ in repeated:
            for i, item in enumerate(getattr(message, field_name)):
                inner = getattr(got, field_name)[i]
                check(EXTRA in inner.SerializeToString(),
                      "%s.%s[%d] keeps its unknown fields" % (name, field_name, i))
                inner_clean = type(item)()
                inner_clean.CopyFrom(inner)
                inner_clean.DiscardUnknownFields()
                check_eq(inner_clean.SerializeToString(), item.SerializeToString(),
                         "%s.%s[%d] without its unknown fields" % (name, field_name, i))
        check(got.SerializeToString().endswith(EXTRA), "%s keeps its unknown fields" % name)
        got.DiscardUnknownFields()
        check_eq(got.SerializeToString(), message.SerializeToString(),
                 "%s without its unknown fields" % name)
        # The other way round: a message from an older peer lacks fields; they read as zero.
        old = type(message)()
        old.ParseFromString(b"")
        check_eq(old.SerializeToString(), b"", "%s: an empty message is all zero" % name)
    check_eq(reply.entries[0].text, b"t", "sanity")


def case_newer_peer(sysm):
    """Against the newer peer, the C CLI and the Python client (library and command) list,
    join, send, fetch and listen, decoding replies, entries and Publish frames full of unknown
    fields, and they see identical fields."""
    peer = NewerPeer()
    peer.start()
    check(peer.ready.wait(DEADLINE_S) and not peer.error, "newer peer started: %s" % peer.error)
    reg = peer.registry_ep
    listen = None
    try:
        c_groups = json_lines(sysm.c("cnew", "groups", "--json", server=reg)[0])
        check_eq(c_groups, [{"name": "newer", "endpoint": peer.endpoint,
                             "pub_endpoint": peer.pub_endpoint}], "C groups from the newer peer")
        sysm.c("cnew", "--name", "cnew", "join", "newer", server=reg)
        c_ack = json_lines(sysm.c("cnew", "send", "newer", "C into the future", "--json",
                                  server=reg)[0])[0]
        with gc.Client(reg, gc.Identity.new("pynew")) as client:
            check_eq([g.name for g in client.groups()], ["newer"], "Python groups")
            client.join("newer")
            sub = gc.Subscriber(client)
            try:
                sub.add("newer", after_seq=0)
                deliveries = []
                wait_heartbeat(sub, deliveries)
                listen = sysm.start("c-listen-newer", sysm.c_argv("cnew", reg)
                                    + ["listen", "newer", "--json"])
                listen.wait_line("err", lambda l: "listening" in l)
                py_ack = client.send("newer", "Python into the future")
                c_ack2 = json_lines(sysm.c("cnew", "send", "newer", "C, live", "--json",
                                           server=reg)[0])[0]
                got = collect(sub, deliveries, range(1, c_ack2["seq"] + 1))
                check(got[c_ack2["seq"]].live, "C's second message reached Python live")
                py_members = [{"id": m.id, "name": m.name, "joined_us": m.joined_us}
                              for m in client.members("newer")]
            finally:
                sub.close()
            fetched = list(client.history("newer"))
        c_live = read_json_until(listen, [py_ack.seq, c_ack2["seq"]])
        check_eq(sysm.stop(listen), 0, "C listen exit status")
        listen = None
        want = [gc.entry_json("newer", e) for e in peer.entries]
        check_eq(len(want), 5, "entries at the newer peer (2 joins, 3 messages)")
        check_eq(want[c_ack["seq"] - 1]["text"], "C into the future", "C's first message")
        c_hist = json_lines(sysm.c("cnew", "history", "newer", "--json", server=reg)[0])
        check_eq(c_hist, want, "C history --json from the newer peer")
        check_eq([gc.entry_json("newer", e) for e in fetched], want, "Python history")
        check_eq([gc.entry_json("newer", got[s].entry) for s in sorted(got)], want,
                 "Python subscriber")
        for seq in (py_ack.seq, c_ack2["seq"]):
            check_eq(c_live[seq], want[seq - 1], "C listen --json entry %d" % seq)
        want_members = [{"id": m.id, "name": m.name, "joined_us": m.joined_us}
                        for m in sorted(peer.members.values(), key=lambda m: m.id)]
        check_eq(sorted(m["name"] for m in want_members), ["cnew", "pynew"], "peer's members")
        check_eq(py_members, want_members, "Python members from the newer peer")
        c_members = json_lines(sysm.c("cnew", "members", "newer", "--json", server=reg)[0])
        check_eq(c_members, want_members, "C members --json from the newer peer")
        py_cli = json_lines(sysm.py("pynewcli", "--json", "fetch", "newer", server=reg)[0])
        check_eq(py_cli, want, "Python CLI fetch from the newer peer")
        check("fetch" in peer.seen and "info" in peer.seen, "peer served: %s" % peer.seen)
    finally:
        if listen:
            sysm.stop(listen)
        peer.stop()
    check(not peer.error, "newer peer failed: %r" % peer.error)


def case_newer_peer_batch(sysm):
    """The C CLI sends many lines of standard input in one run to the newer peer (as SendBatch
    requests where the C client batches async sends, as plain Sends otherwise): every line
    arrives once, in order, acknowledged with the seq and timestamp the peer gave, and C history
    shows them. The Python client's batches to the peer are acknowledged as the C group's are.
    Returns how the C client's messages went out."""
    peer = NewerPeer()
    peer.start()
    check(peer.ready.wait(DEADLINE_S) and not peer.error, "newer peer started: %s" % peer.error)
    reg = peer.registry_ep
    try:
        sysm.c("cbatch", "--name", "cbatch", "join", "newer", server=reg)
        cbatch = c_whoami(sysm, "cbatch")
        lines = ["line %03d from C's standard input \u2713" % i for i in range(300)]
        out, _ = sysm.c("cbatch", "send", "newer", "--json", server=reg,
                        stdin=("\n".join(lines) + "\n").encode())
        acks = sorted(json_lines(out), key=lambda a: a["seq"])
        check_eq([a["text"] for a in acks], lines, "C acks (by seq): every line, in order")
        mine = [e for e in peer.entries if e.sender == cbatch and e.kind == pb.ENTRY_MESSAGE]
        check_eq([e.text.decode() for e in mine], lines, "the lines at the newer peer, in order")
        check_eq([(a["seq"], a["ts_us"]) for a in acks], [(e.seq, e.ts_us) for e in mine],
                 "C acks vs the peer's entries")
        c_hist = json_lines(sysm.c("cbatch", "history", "newer", "--json", server=reg)[0])
        check_eq(c_hist, [gc.entry_json("newer", e) for e in peer.entries],
                 "C history --json from the newer peer")
        c_sends = [(body, n) for sender, body, n in peer.sends if sender == cbatch]
        check_eq(sum(n for _, n in c_sends), len(lines), "messages the C client sent")
        batches = [n for body, n in c_sends if body == "send_batch"]
        with gc.Client(reg, gc.Identity.new("pybatchnew")) as client:
            client.join("newer")
            ack = client.send_batch("newer", ["py 1", "py 2", "py 3"])
            check_contiguous(ack.seqs, len(peer.entries) - 2, "Python batch to the newer peer")
            check_eq(list(ack.ts_list), [e.ts_us for e in peer.entries[-3:]],
                     "Python batch's timestamps")
            try:
                client.send_batch("newer", ["one"])
                raise Failure("the newer peer took a batch of 1")
            except gc.GroupcastError as exc:
                check_eq((exc.status, exc.error),
                         (pb.STATUS_BAD_REQUEST, "a send batch holds at least 2 messages"),
                         "the newer peer's refusal")
    finally:
        peer.stop()
    check(not peer.error, "newer peer failed: %r" % peer.error)
    return "C client: %d lines as %d batches (%d messages) and %d plain sends" % (
        len(lines), len(batches), sum(batches), len(c_sends) - len(batches))


CASES = [
    ("groups", case_groups),
    ("c_to_python", case_c_to_python),
    ("python_to_c", case_python_to_c),
    ("python_cli", case_python_cli),
    ("malformed_group", case_malformed_group),
    ("malformed_registry", case_malformed_registry),
    ("same_refusal_as_c", case_same_refusal_as_c),
    ("c_group_skips_unknown_fields", case_c_group_skips_unknown_fields),
    ("python_decodes_unknown_fields", case_python_decodes_unknown_fields),
    ("batch_python_to_c", case_batch_python_to_c),
    ("batch_refusals", case_batch_refusals),
    ("batch_retry", case_batch_retry),
    ("newer_peer", case_newer_peer),
    ("newer_peer_batch", case_newer_peer_batch),
]


def main():
    global args, gc, pb
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True, help="directory of the C binaries")
    parser.add_argument("--pb2-dir", required=True, help="directory of groupcast_pb2.py")
    parser.add_argument("cases", nargs="*", help="run only these cases")
    args = parser.parse_args()
    for binary in ("groupcast", "groupcast-server", "groupcast-group"):
        if not os.access(os.path.join(args.bin_dir, binary), os.X_OK):
            print("test_interop: no executable %s in %s" % (binary, args.bin_dir))
            return 1
    os.environ["GROUPCAST_PB2_DIR"] = args.pb2_dir
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import groupcast_client
    gc, pb = groupcast_client, groupcast_client.pb
    unknown = set(args.cases) - {name for name, _ in CASES}
    if unknown:
        print("test_interop: unknown cases: %s" % ", ".join(sorted(unknown)))
        return 2

    # SIGTERM (from a user or a harness) unwinds like Ctrl-C, so our processes are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: _interrupt())
    passed = failed = 0
    sysm = System()
    try:
        try:
            sysm.start_core()
        except Failure as exc:
            print("FAIL setup: %s" % exc, flush=True)
            failed = len(CASES)
        for name, case in CASES if not failed else []:
            if args.cases and name not in args.cases:
                print("skip %s (not selected)" % name)
                continue
            started = time.monotonic()
            try:
                note = case(sysm)
            except Failure as exc:
                failed += 1
                print("FAIL %s: %s" % (name, exc), flush=True)
            except Exception:  # a bug in the test or an unexpected error: report it in full
                failed += 1
                print("FAIL %s: unexpected error\n%s" % (name, traceback.format_exc()),
                      flush=True)
            else:
                passed += 1
                print("ok   %s (%.2f s)%s" % (name, time.monotonic() - started,
                                            ": " + note if note else ""), flush=True)
    except KeyboardInterrupt:
        failed += 1
        print("FAIL interrupted", flush=True)
    finally:
        problems = sysm.destroy()
    if problems:
        failed += 1
        print("FAIL clean_exit: %d problems" % len(problems))
        for problem in problems:
            print("  %s" % problem)
    else:
        passed += 1
        print("ok   clean_exit (every process exited 0 with clean output)")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def _interrupt():
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
