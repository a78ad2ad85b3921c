#!/usr/bin/python3
"""groupcast_client - a small groupcast client in Python, built only from the wire contract

SPDX-License-Identifier: MPL-2.0

A second implementation of the client side of docs/protocol.md, from the Python code that
`protoc --python_out` generates from proto/groupcast.proto (never committed: the build writes
groupcast_pb2.py into <build>/tests/interop). It lists groups, joins, leaves, sends (one message
or a batch), fetches history and follows a group live with the Clone pattern (section 7.2). The
interop test (test_interop.py) runs it against the C registry and group.

Library:

    ident = Identity.new("alice")                 # uuid4 + 16 random token bytes
    with Client("tcp://127.0.0.1:5555", ident) as client:
        client.join("ops")
        ack = client.send("ops", "hello")         # GroupReply: ack.seq, ack.ts_us
        acks = client.send_batch("ops", ["a", "b"])   # GroupReply: seqs, ts_list
        page = client.fetch("ops", after_seq=0)   # Page: entries, more, first_seq, last_seq
        sub = Subscriber(client)
        sub.add("ops")                            # from now; add("ops", after_seq=0): everything
        got = sub.recv(1000)                      # Delivery (group, entry, live) or None

Errors are raised as GroupcastError (status, error); a timeout has status TIMEOUT (100) and a
reply that is not a valid reply PROTOCOL (101), as in libgroupcast.

send_batch(group, texts, client_msg_ids=None, retry=False) sends one SendBatch: 2 to 4096
messages (str or bytes), at most 1 MiB of text in all, each checked as a Send is; the group
stores them in the order given in one transaction, all or none, and its reply lists each
message's seq and timestamp in `seqs` and `ts_list`, in request order. client_msg_ids is None
(no ids) or one id per message (16 bytes, or b"" for none); with retry=True the group looks each
id up first, so a resent batch is acknowledged with the original seqs and stored once. The client
does not check the batch itself: send_refusal() and send_batch_refusal() give the (status, error)
a group answers a bad Send or SendBatch with (None for a good one).

Command line (needs groupcast_pb2 on the path: set GROUPCAST_PB2_DIR=<build>/tests/interop):

    groupcast_client.py [--server EP] [--home DIR] [--name NAME] [--json] [--timeout MS]
                        COMMAND [ARGS]
    commands: groups | join GROUP... | leave GROUP... | send GROUP TEXT... |
              fetch GROUP [--after-seq N] [--before-seq N] [--limit N] |
              listen GROUP... [--after-seq N] | whoami

--json prints the same JSON lines as the C `groupcast --json`. Exit status: 0 ok, 1 failure,
2 usage.
"""

import argparse
import json
import os
import re
import signal
import sys
import time
import uuid

import zmq

if os.environ.get("GROUPCAST_PB2_DIR"):
    sys.path.insert(0, os.environ["GROUPCAST_PB2_DIR"])
try:
    import groupcast_pb2 as pb
except ImportError as exc:  # pragma: no cover - a setup problem, explained to the user
    raise ImportError(
        "cannot import groupcast_pb2: generate it with `protoc --python_out=DIR "
        "--proto_path=proto proto/groupcast.proto` (the build does this into "
        "<build>/tests/interop) and set GROUPCAST_PB2_DIR=DIR") from exc

# Limits from docs/protocol.md, section 1.
MAX_FRAME = 4 * 1024 * 1024
MAX_TEXT = 65536
MAX_NAME = 64
TOKEN_SIZE = 16
MSG_ID_SIZE = 16
FETCH_DEFAULT = 1000
MAX_BATCH_SENDS = 4096
MAX_BATCH_TEXT = 1024 * 1024

# Wire statuses come from the schema; 100 and above are client-only, numbered as libgroupcast.
OK = pb.STATUS_OK
TIMEOUT = 100
PROTOCOL = 101

DEFAULT_SERVER = "tcp://127.0.0.1:5555"
DEFAULT_TIMEOUT_MS = 3000
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KINDS = {pb.ENTRY_MESSAGE: None, pb.ENTRY_JOIN: "join", pb.ENTRY_LEAVE: "leave"}


def status_name(status):
    """The schema's name for a status (STATUS_NOT_MEMBER), or the number as text."""
    if status == TIMEOUT:
        return "TIMEOUT"
    if status == PROTOCOL:
        return "PROTOCOL"
    try:
        return pb.Status.Name(status)
    except ValueError:
        return str(status)


class GroupcastError(Exception):
    """A request that did not succeed: `status` (a Status value, or TIMEOUT / PROTOCOL) and
    `error`, the peer's text as sent (or the client's own, for TIMEOUT and PROTOCOL)."""

    def __init__(self, status, error):
        super().__init__(error or status_name(status))
        self.status = status
        self.error = error


class Identity:
    """A user: a UUID (canonical lowercase text), a 16-byte secret token and a display name."""

    def __init__(self, user_id, token, name=""):
        if not _UUID_RE.match(user_id) or len(token) != TOKEN_SIZE:
            raise ValueError("an identity needs a lowercase UUID and a 16-byte token")
        self.id = user_id
        self.token = bytes(token)
        self.name = name

    @classmethod
    def new(cls, name=""):
        """A fresh identity: uuid4 and 16 bytes from the OS's random source."""
        return cls(str(uuid.uuid4()), os.urandom(TOKEN_SIZE), name)

    @classmethod
    def load(cls, path):
        """Reads an identity written by save(); raises OSError or ValueError."""
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return cls(data["id"], bytes.fromhex(data["token"]), data.get("name", ""))

    def save(self, path):
        """Writes the identity (the token is a secret: mode 0600), replacing the file atomically."""
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"id": self.id, "token": self.token.hex(), "name": self.name}, f)
            f.write("\n")
        os.replace(tmp, path)


class Page:
    """One fetch reply: entries (ascending seq), more, first_seq, last_seq."""

    def __init__(self, reply):
        self.entries = list(reply.entries)
        self.more = reply.more
        self.first_seq = reply.first_seq
        self.last_seq = reply.last_seq


class Delivery:
    """An entry handed out by Subscriber.recv: `group`, `entry` (pb.Entry) and `live` (True when
    it came from a Publish frame, False when it was fetched from history)."""

    def __init__(self, group, entry, live):
        self.group = group
        self.entry = entry
        self.live = live


def entry_json(group, entry):
    """An entry as the dict the C `groupcast --json` prints for it: group, seq, ts_us, event
    (joins and leaves only), sender, name, text (messages only; invalid UTF-8 becomes U+FFFD)."""
    out = {"group": group, "seq": entry.seq, "ts_us": entry.ts_us}
    kind = _KINDS.get(entry.kind, "kind-%d" % entry.kind)
    if kind:
        out["event"] = kind
    out["sender"] = entry.sender
    out["name"] = entry.name
    if entry.kind == pb.ENTRY_MESSAGE:
        out["text"] = entry.text.decode("utf-8", errors="replace")
    return out


def _check_entries(entries):
    """Refuses what libgroupcast refuses (docs/protocol.md 5.9); raises GroupcastError."""
    previous = 0
    for e in entries:
        if (e.seq == 0 or not _UUID_RE.match(e.sender) or len(e.text) > MAX_TEXT
                or e.kind not in _KINDS):
            raise GroupcastError(PROTOCOL, "invalid entry")
        if e.seq <= previous:
            raise GroupcastError(PROTOCOL, "entries out of order")
        previous = e.seq


def _as_bytes(text):
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def send_refusal(text, client_msg_id=b""):
    """What a group answers a Send of `text` (str or bytes) with: (status, error), or None when
    the body is valid (docs/protocol.md 3; checked before membership and token)."""
    data = _as_bytes(text)
    if not data:
        return pb.STATUS_BAD_REQUEST, "empty message"
    if len(data) > MAX_TEXT:
        return pb.STATUS_TOO_LARGE, "message text exceeds %d bytes" % MAX_TEXT
    if len(client_msg_id) not in (0, MSG_ID_SIZE):
        return pb.STATUS_BAD_REQUEST, "client_msg_id must be %d bytes" % MSG_ID_SIZE
    return None


def send_batch_refusal(texts, client_msg_ids=None):
    """What a group answers a SendBatch of `texts` with: (status, error), or None when it is
    valid. More than MAX_BATCH_SENDS messages is refused first (a group counts them before
    unpacking); then each message is checked as a Send, in order; then for fewer than 2
    messages; then the total text (at most MAX_BATCH_TEXT bytes)."""
    ids = _batch_ids(texts, client_msg_ids)
    if len(texts) > MAX_BATCH_SENDS:
        return pb.STATUS_TOO_LARGE, "a send batch holds at most %d messages" % MAX_BATCH_SENDS
    total = 0
    for text, msg_id in zip(texts, ids):
        refusal = send_refusal(text, msg_id)
        if refusal:
            return refusal
        total += len(_as_bytes(text))
    if len(texts) < 2:
        return pb.STATUS_BAD_REQUEST, "a send batch holds at least 2 messages"
    if total > MAX_BATCH_TEXT:
        return pb.STATUS_TOO_LARGE, ("a send batch holds at most %d bytes of text"
                                     % MAX_BATCH_TEXT)
    return None


def _batch_ids(texts, client_msg_ids):
    """client_msg_ids as a list of bytes as long as texts (b"": no id); raises ValueError."""
    if client_msg_ids is None:
        return [b""] * len(texts)
    ids = [bytes(i) for i in client_msg_ids]
    if len(ids) != len(texts):
        raise ValueError("client_msg_ids must hold one id per message")
    return ids


class Client:
    """Requests to the registry (a fresh REQ per request) and to groups (one DEALER per group
    endpoint, replies matched by request_id). Not thread-safe: one thread per Client."""

    def __init__(self, server, identity, timeout_ms=DEFAULT_TIMEOUT_MS, context=None):
        self.server = server
        self.identity = identity
        self.timeout_ms = timeout_ms
        self.ctx = context or zmq.Context.instance()
        self._dealers = {}      # group endpoint -> DEALER socket
        self._groups = {}       # group name -> GroupInfo, from the registry
        self._next_id = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Closes every socket this client opened."""
        for sock in self._dealers.values():
            sock.close(linger=0)
        self._dealers.clear()

    def socket(self, kind):
        """A socket with the options every groupcast socket has: no linger, and replies over
        GC_MAX_FRAME dropped by ZeroMQ (set before connecting, so it applies)."""
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)
        return sock

    def _take_id(self):
        rid = self._next_id
        self._next_id += 1
        return rid

    # -- raw exchanges (also used by the interop test to send hostile frames) ---------------

    def registry_raw(self, frames, timeout_ms=None):
        """Sends `frames` (a list of bytes) on a fresh REQ to the registry and returns the
        decoded RegistryReply. A fresh socket per request is the Lazy Pirate pattern: a REQ that
        timed out is never reused. Raises GroupcastError (TIMEOUT, PROTOCOL)."""
        wait = self.timeout_ms if timeout_ms is None else timeout_ms
        sock = self.socket(zmq.REQ)
        try:
            sock.connect(self.server)
            sock.send_multipart(frames)
            if not sock.poll(wait):
                raise GroupcastError(TIMEOUT, "registry at %s did not answer within %d ms"
                                     % (self.server, wait))
            payload = sock.recv()
        finally:
            sock.close(linger=0)
        reply = pb.RegistryReply()
        try:
            reply.ParseFromString(payload)
        except Exception as exc:  # DecodeError, or a RuntimeError from the C++ backend
            raise GroupcastError(PROTOCOL, "malformed registry reply: %s" % exc) from exc
        return reply

    def group_raw(self, endpoint, frames, request_id=None, timeout_ms=None, sock=None):
        """Sends `frames` to a group's ROUTER and returns the decoded GroupReply whose
        request_id is `request_id` (the first reply when None). Uses a fresh DEALER unless
        `sock` is given. Raises GroupcastError (TIMEOUT, PROTOCOL)."""
        own = sock is None
        if own:
            sock = self.socket(zmq.DEALER)
            sock.connect(endpoint)
        try:
            sock.send_multipart(frames)
            wait = self.timeout_ms if timeout_ms is None else timeout_ms
            deadline = time.monotonic() + wait / 1000.0
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sock.poll(max(1, int(left * 1000))):
                    raise GroupcastError(TIMEOUT, "group at %s did not answer within %d ms"
                                         % (endpoint, wait))
                parts = sock.recv_multipart()
                # A reply to a REQ-style request has an empty delimiter first: skip it.
                payload = parts[-1]
                reply = pb.GroupReply()
                try:
                    reply.ParseFromString(payload)
                except Exception as exc:
                    raise GroupcastError(PROTOCOL, "malformed group reply: %s" % exc) from exc
                if request_id is None or reply.request_id == request_id:
                    return reply
                # A late reply to an earlier request that timed out: drop it.
        finally:
            if own:
                sock.close(linger=0)

    # -- registry --------------------------------------------------------------------------

    def groups(self):
        """Every live group (a list of pb.GroupInfo, sorted by name). Raises GroupcastError."""
        request = pb.RegistryRequest(request_id=self._take_id(), client_id=self.identity.id)
        request.list_groups.SetInParent()
        reply = self.registry_raw([request.SerializeToString()])
        if reply.request_id != request.request_id:
            raise GroupcastError(PROTOCOL, "registry reply to another request")
        if reply.status != OK:
            raise GroupcastError(reply.status, "registry: %s" % reply.error)
        self._groups = {g.name: g for g in reply.groups}
        return list(reply.groups)

    def lookup(self, group, refresh=False):
        """The registry's pb.GroupInfo for `group` (cached). Raises GroupcastError."""
        if refresh or group not in self._groups:
            self.groups()
        if group not in self._groups:
            raise GroupcastError(pb.STATUS_NOT_FOUND, "no group '%s' is registered" % group)
        return self._groups[group]

    # -- group requests --------------------------------------------------------------------

    def request(self, group, body, **fields):
        """Sends a GroupRequest with body `body` (a oneof name: "join", "send", ...) set from
        `fields` (a list value fills a repeated field), as this identity, and returns the OK
        GroupReply. Raises GroupcastError with
        the group's status and error text otherwise."""
        info = self.lookup(group)
        request = pb.GroupRequest(request_id=self._take_id(), sender=self.identity.id,
                                  token=self.identity.token)
        part = getattr(request, body)
        part.SetInParent()
        for key, value in fields.items():
            if isinstance(value, list):
                getattr(part, key).extend(value)    # a repeated field
            else:
                setattr(part, key, value)
        sock = self._dealers.get(info.endpoint)
        if sock is None:
            sock = self.socket(zmq.DEALER)
            sock.connect(info.endpoint)
            self._dealers[info.endpoint] = sock
        reply = self.group_raw(info.endpoint, [request.SerializeToString()],
                               request_id=request.request_id, sock=sock)
        if reply.group and reply.group != group:
            raise GroupcastError(pb.STATUS_NOT_FOUND,
                                 "%s serves group '%s', not '%s'"
                                 % (info.endpoint, reply.group, group))
        if reply.status != OK:
            raise GroupcastError(reply.status, reply.error)
        _check_entries(reply.entries)
        return reply

    def join(self, group, name=None):
        """Joins with display name `name` (default: the identity's). Returns the GroupReply."""
        return self.request(group, "join", name=self.identity.name if name is None else name)

    def leave(self, group):
        """Leaves the group. Returns the GroupReply (seq of the leave entry)."""
        return self.request(group, "leave")

    def send(self, group, text, client_msg_id=b""):
        """Sends `text` (str: UTF-8, or bytes). Returns the acknowledgement (seq, ts_us)."""
        return self.request(group, "send", text=_as_bytes(text), client_msg_id=client_msg_id)

    def send_batch(self, group, texts, client_msg_ids=None, retry=False):
        """Sends the messages `texts` (a list of str or bytes) as one SendBatch, with
        `client_msg_ids` (None, or one 16-byte id or b"" per message) and `retry` set on each.
        Returns the acknowledgement: seqs and ts_list, one per message in request order, and
        last_seq. Raises GroupcastError (the group's refusal, or PROTOCOL when the reply does
        not give one seq and one timestamp per message); ValueError when client_msg_ids is not
        one per message. The batch is sent as given: see send_batch_refusal()."""
        ids = _batch_ids(texts, client_msg_ids)
        sends = [pb.Send(text=_as_bytes(text), client_msg_id=msg_id, retry=retry)
                 for text, msg_id in zip(texts, ids)]
        reply = self.request(group, "send_batch", sends=sends)
        if len(reply.seqs) != len(sends) or len(reply.ts_list) != len(sends):
            raise GroupcastError(PROTOCOL, "batch acknowledgement gives %d seqs and %d "
                                 "timestamps for %d messages"
                                 % (len(reply.seqs), len(reply.ts_list), len(sends)))
        if any(seq == 0 or seq > reply.last_seq for seq in reply.seqs):
            raise GroupcastError(PROTOCOL, "batch acknowledgement with an invalid seq")
        return reply

    def info(self, group):
        """Info: last_seq, first_seq, pub_endpoint, member_count; needs no membership."""
        return self.request(group, "info")

    def members(self, group):
        """The members (a list of pb.Member, sorted by id)."""
        return list(self.request(group, "members").members)

    def fetch(self, group, after_seq=0, before_seq=0, since_us=0, until_us=0, limit=0,
              newest=False):
        """One page of history (filters as docs/protocol.md 5.6). Returns a Page."""
        return Page(self.request(group, "fetch", after_seq=after_seq, before_seq=before_seq,
                                 since_us=since_us, until_us=until_us, limit=limit,
                                 newest=newest))

    def history(self, group, after_seq=0, before_seq=0):
        """Every entry with after_seq < seq < before_seq (0: no bound), oldest first, fetched
        page by page. A generator of pb.Entry."""
        while True:
            page = self.fetch(group, after_seq=after_seq, before_seq=before_seq)
            yield from page.entries
            if not page.more or not page.entries:
                return
            after_seq = page.entries[-1].seq


class Subscriber:
    """Live entries of one or more groups, each delivered exactly once and in order: subscribe
    to the PUB socket first, fetch history up to the Info's last_seq, then follow Publish
    frames, repairing gaps from history (docs/protocol.md 7.2). Uses the client's thread."""

    def __init__(self, client):
        self.client = client
        self.sock = client.socket(zmq.SUB)
        self.publishes = 0          # Publish frames received, heartbeats included
        self._delivered = {}        # group -> last seq handed out
        self._connected = set()     # pub endpoints connected
        self._pending = []          # deliveries waiting to be handed out, in order

    def close(self):
        self.sock.close(linger=0)

    def delivered(self, group):
        """The last seq handed out for `group`."""
        return self._delivered[group]

    def add(self, group, after_seq=None):
        """Follows `group` from after `after_seq` (None: from now). Raises GroupcastError."""
        info = self.client.info(group)
        if info.pub_endpoint not in self._connected:
            self.sock.setsockopt(zmq.SUBSCRIBE, (group + "/").encode())
            self.sock.connect(info.pub_endpoint)
            self._connected.add(info.pub_endpoint)
        else:
            self.sock.setsockopt(zmq.SUBSCRIBE, (group + "/").encode())
        self._delivered[group] = info.last_seq if after_seq is None else after_seq
        self._repair(group, info.last_seq + 1)

    def _repair(self, group, before_seq):
        """Fetches and queues what lies between delivered and before_seq (exclusive)."""
        while self._delivered[group] + 1 < before_seq:
            page = self.client.fetch(group, after_seq=self._delivered[group],
                                     before_seq=before_seq)
            for entry in page.entries:
                self._pending.append(Delivery(group, entry, False))
                self._delivered[group] = entry.seq
            if not page.more:
                # Whatever is still missing below before_seq is gone (retention): skip it.
                self._delivered[group] = max(self._delivered[group], before_seq - 1)

    def _on_publish(self, topic, payload):
        pub = pb.Publish()
        try:
            pub.ParseFromString(payload)
        except Exception:
            return  # not a Publish: ignore it, as libgroupcast does
        if topic != (pub.group + "/").encode() or pub.group not in self._delivered:
            return
        try:
            _check_entries(pub.entries)
        except GroupcastError:
            return
        self.publishes += 1
        group = pub.group
        for entry in pub.entries:
            if entry.seq <= self._delivered[group]:
                continue
            if entry.seq > self._delivered[group] + 1:
                self._repair(group, entry.seq)
            if entry.seq == self._delivered[group] + 1:
                self._pending.append(Delivery(group, entry, True))
                self._delivered[group] = entry.seq
        if pub.last_seq > self._delivered[group]:
            self._repair(group, pub.last_seq + 1)

    def recv(self, timeout_ms):
        """The next Delivery, or None when none came within timeout_ms. Raises GroupcastError
        when a repair fetch fails."""
        deadline = time.monotonic() + timeout_ms / 1000.0
        while not self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(max(0, int(left * 1000))):
                return None
            frames = self.sock.recv_multipart()
            if len(frames) == 2:
                self._on_publish(frames[0], frames[1])
        return self._pending.pop(0)


# -- command line ----------------------------------------------------------------------------

def _print_json(obj):
    print(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), flush=True)


def _print_entry(args, group, entry):
    if args.json:
        _print_json(entry_json(group, entry))
        return
    who = entry.name or entry.sender[:8]
    kind = _KINDS.get(entry.kind)
    if kind:
        print("%s #%d * %s %s" % (group, entry.seq, who, "joined" if kind == "join" else "left"),
              flush=True)
    else:
        text = entry.text.decode("utf-8", errors="replace")
        text = "".join("?" if ord(c) < 0x20 and c != "\t" else c for c in text)
        print("%s #%d %s: %s" % (group, entry.seq, who, text), flush=True)


def _identity(args):
    home = args.home or os.environ.get("GROUPCAST_PY_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state", "groupcast-py")
    os.makedirs(home, mode=0o700, exist_ok=True)
    path = os.path.join(home, "identity.json")
    if os.path.exists(path):
        ident = Identity.load(path)
    else:
        ident = Identity.new()
    if args.name is not None and args.name != ident.name:
        ident.name = args.name
    if not os.path.exists(path) or args.name is not None:
        ident.save(path)
    return ident


def _cmd_groups(args, client):
    for g in client.groups():
        if args.json:
            _print_json({"name": g.name, "endpoint": g.endpoint, "pub_endpoint": g.pub_endpoint})
        else:
            print("%-20s %s %s" % (g.name, g.endpoint, g.pub_endpoint))
    return 0


def _cmd_join_leave(args, client):
    rc = 0
    for group in args.groups:
        try:
            reply = client.join(group) if args.command == "join" else client.leave(group)
        except GroupcastError as exc:
            print("groupcast_client: %s" % exc, file=sys.stderr)
            rc = 1
            continue
        word = "joined" if args.command == "join" else "left"
        if args.json:
            _print_json({"group": group, word: True, "seq": reply.seq,
                         "last_seq": reply.last_seq})
        else:
            print("%s %s" % (word, group))
    return rc


def _cmd_send(args, client):
    text = " ".join(args.text)
    ack = client.send(args.group, text)
    if args.json:
        _print_json({"group": args.group, "seq": ack.seq, "ts_us": ack.ts_us, "text": text})
    else:
        print("sent to %s as #%d" % (args.group, ack.seq))
    return 0


def _cmd_fetch(args, client):
    printed = 0
    after = args.after_seq
    while args.limit == 0 or printed < args.limit:
        left = FETCH_DEFAULT if args.limit == 0 else min(FETCH_DEFAULT, args.limit - printed)
        page = client.fetch(args.group, after_seq=after, before_seq=args.before_seq, limit=left)
        for entry in page.entries:
            _print_entry(args, args.group, entry)
        printed += len(page.entries)
        if not page.more or not page.entries:
            break
        after = page.entries[-1].seq
    return 0


def _cmd_listen(args, client):
    stop = []
    handler = lambda signum, frame: stop.append(signum)  # noqa: E731
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    sub = Subscriber(client)
    try:
        for group in args.groups:
            sub.add(group, args.after_seq)
        # On stderr even with --json, as the C client does: scripts wait for it.
        print("groupcast_client: listening; Ctrl-C to stop", file=sys.stderr, flush=True)
        while not stop:
            got = sub.recv(200)
            if got:
                _print_entry(args, got.group, got.entry)
    finally:
        sub.close()
    return 0


def _cmd_whoami(args, client):
    ident = client.identity
    if args.json:
        _print_json({"id": ident.id, "name": ident.name})
    else:
        print("%s %s" % (ident.id, ident.name))
    return 0


def _parser():
    def add_options(parser, top):
        # On the main parser with their defaults; again on each command, so that options may
        # follow the command as with the C CLI, with defaults suppressed so as not to override.
        default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
        parser.add_argument("--server",
                            default=default(os.environ.get("GROUPCAST_SERVER") or DEFAULT_SERVER),
                            help="registry endpoint (default $GROUPCAST_SERVER or %s)"
                                 % DEFAULT_SERVER)
        parser.add_argument("--home", default=default(None),
                            help="state directory (default $GROUPCAST_PY_HOME, else "
                                 "~/.local/state/groupcast-py)")
        parser.add_argument("--name", default=default(None),
                            help="set the display name (kept for later runs)")
        parser.add_argument("--json", action="store_true", default=default(False),
                            help="print JSON lines")
        parser.add_argument("--timeout", type=int, default=default(DEFAULT_TIMEOUT_MS),
                            metavar="MS", help="per-request timeout (default %d)"
                                               % DEFAULT_TIMEOUT_MS)

    p = argparse.ArgumentParser(prog="groupcast_client.py",
                                description="A groupcast client in Python (interop reference).")
    add_options(p, True)
    common = argparse.ArgumentParser(add_help=False)
    add_options(common, False)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("groups", parents=[common], help="list the registered groups")
    for name in ("join", "leave"):
        c = sub.add_parser(name, parents=[common], help="%s groups" % name)
        c.add_argument("groups", nargs="+", metavar="GROUP")
    c = sub.add_parser("send", parents=[common], help="send one message")
    c.add_argument("group", metavar="GROUP")
    c.add_argument("text", nargs="+", metavar="TEXT")
    c = sub.add_parser("fetch", aliases=["history"], parents=[common], help="print history")
    c.add_argument("group", metavar="GROUP")
    c.add_argument("--after-seq", type=int, default=0, metavar="N")
    c.add_argument("--before-seq", type=int, default=0, metavar="N")
    c.add_argument("--limit", type=int, default=0, metavar="N")
    c = sub.add_parser("listen", parents=[common], help="print live entries")
    c.add_argument("groups", nargs="+", metavar="GROUP")
    c.add_argument("--after-seq", type=int, default=None, metavar="N",
                   help="replay history after seq N first")
    sub.add_parser("whoami", parents=[common], help="print your user id and display name")
    return p


_COMMANDS = {"groups": _cmd_groups, "join": _cmd_join_leave, "leave": _cmd_join_leave,
             "send": _cmd_send, "fetch": _cmd_fetch, "history": _cmd_fetch,
             "listen": _cmd_listen, "whoami": _cmd_whoami}


def main(argv=None):
    args = _parser().parse_args(argv)   # exits 2 on a usage error
    if args.timeout <= 0:
        print("groupcast_client: --timeout must be positive", file=sys.stderr)
        return 2
    try:
        ident = _identity(args)
    except (OSError, ValueError, KeyError) as exc:
        print("groupcast_client: cannot load identity: %s" % exc, file=sys.stderr)
        return 1
    with Client(args.server, ident, args.timeout) as client:
        try:
            return _COMMANDS[args.command](args, client)
        except GroupcastError as exc:
            print("groupcast_client: %s" % exc, file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
