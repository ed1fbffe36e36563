#!/usr/bin/env python3
"""Verify giosg-gateway audit files independently of the gateway (README "Integrity").

    verify_audit.py [--public-key FILE [--require-signed [--max-unsigned-s N]]] FILE...

Every line must be a chained record: {"seq":N,"prev":"<64 hex>",...,"hash":"<64 hex>"} where
hash = SHA-256(prev + the line without its hash member). Files are put in chain order by their
first seq; each file after the first starts with a rotation record naming the file before it,
its size and the torn bytes it ends with. With --public-key, every checkpoint's Ed25519
signature over "giosg-audit-checkpoint:v1:<seq>:<prev>:<ts>" is checked. With --require-signed
as well, the trail must be signed: no valid checkpoint, a file before the newest that does not end
in one, or records after the last one spanning more than N seconds of ts (default 120) are tampering.

Exit 0 intact, 1 tampered, 2 usage error or unreadable input, 3 intact except that the last line
of the last file is torn (a crash mid-write). The first problem goes to stderr as FILE:LINE: reason.
Python 3 standard library; signatures with the `cryptography` package or else the openssl CLI.
"""
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

MAX_LINE = 1 << 20
GENESIS = "0" * 64
CHAINED = re.compile(rb'\{"seq":([1-9][0-9]*),"prev":"([0-9a-f]{64})".*,"hash":"([0-9a-f]{64})"\}', re.S)
STRING, COUNT, ANY = "string", "count", "any"
MEMBERS = {  # what each record kind must carry; a request record carries docs/reference.md §4
    "request": {m: ANY for m in ("ts", "request_id", "client", "remote", "method", "path", "pattern", "decision",
                                 "code", "status", "upstream_status", "bytes_in", "bytes_out", "duration_ms",
                                 "upstream_ms")},
    "rotation": {"ts": STRING, "reason": STRING, "previous_file": STRING, "previous_bytes": COUNT,
                 "torn_bytes": COUNT},
    "checkpoint": {"ts": STRING, "reason": STRING, "key_id": STRING, "sig": STRING},
    "gap": {"ts": STRING, "dropped": COUNT},
    "backlog": {"ts": STRING, "refused": COUNT, "from": STRING, "to": STRING},
    "correction": {"ts": STRING, "request_id": STRING, "code": STRING, "status": COUNT, "bytes_out": COUNT},
    "policy_change": {"ts": STRING, "change": STRING, "pattern": STRING, "method": STRING, "scopes": ANY,
                      "applied": ANY},
    "reload": {"ts": STRING, "result": STRING, "trigger": STRING, "config_sha256": STRING},
}


class Problem(Exception):
    def __init__(self, exit_code, message):
        super().__init__(message)
        self.exit_code = exit_code


def tampered(name, line, reason):
    return Problem(1, f"{name}:{line}: {reason}")


def has_type(value, kind):
    if kind == STRING:
        return isinstance(value, str)
    if kind == COUNT:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64
    return True


def lines_of(name):
    """Yields ("line"|"torn"|"too_long", bytes without the newline, bytes read so far)."""
    try:
        with open(name, "rb") as f:
            while raw := f.readline(MAX_LINE + 1):
                if raw.endswith(b"\n"):
                    yield "line", raw[:-1], f.tell()
                elif len(raw) > MAX_LINE:
                    yield "too_long", raw, f.tell()
                else:
                    yield "torn", raw, f.tell()
    except OSError as e:
        raise Problem(2, f"{name}: cannot read: {e.strerror}")


def chained(line):
    """The match of a line of the chained shape, or None."""
    m = CHAINED.fullmatch(line)
    return m if m and int(m[1]) < 2**64 else None


def parse_record(line):
    """(seq, prev, hash, record) of an intact chained line, or raises ValueError(reason)."""
    if not (m := chained(line)):
        raise ValueError("not a chained audit record")
    seq, prev, digest = int(m[1]), m[2].decode(), m[3].decode()
    try:
        record = json.loads(line.decode("utf-8"), parse_constant=lambda c: 1 / 0)
    except (ValueError, ZeroDivisionError, RecursionError):
        raise ValueError("not valid JSON")
    if record.get("seq") != seq or not has_type(record["seq"], COUNT) or record.get("prev") != prev \
            or record.get("hash") != digest:
        raise ValueError("seq, prev or hash member repeated")
    if hashlib.sha256(prev.encode() + line[:-75] + b"}").hexdigest() != digest:
        raise ValueError("hash does not match the record (edited)")
    kind = record.get("kind", "request")
    if not isinstance(kind, str) or kind not in MEMBERS:
        raise ValueError(f"unknown record kind {json.dumps(kind)}")
    for member, member_type in MEMBERS[kind].items():
        if member not in record or not has_type(record[member], member_type):
            raise ValueError(f'{kind} record without a valid "{member}"')
    return seq, prev, digest, record


class PublicKey:
    """An Ed25519 public key from a PEM file (a private key file is accepted too)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            pem = f.read()
        try:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ed25519
        except ImportError:
            self._init_openssl(path)
            return
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            key = serialization.load_pem_private_key(pem, None).public_key()
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
        self.key = key
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    def _init_openssl(self, path):
        self.key = None
        self.tmp = tempfile.TemporaryDirectory()
        self.pem = os.path.join(self.tmp.name, "key.pub")
        for args in (["-pubin"], []):
            done = subprocess.run(["openssl", "pkey", *args, "-in", path, "-pubout", "-out", self.pem],
                                  capture_output=True)
            if done.returncode == 0:
                break
        der = subprocess.run(["openssl", "pkey", "-pubin", "-in", self.pem, "-outform", "DER"],
                             capture_output=True).stdout
        if not der.startswith(bytes.fromhex("302a300506032b6570032100")) or len(der) != 44:
            raise ValueError("not an Ed25519 key")
        self.key_id = hashlib.sha256(der[12:]).hexdigest()[:16]

    def verify(self, message, sig_hex):
        if not re.fullmatch(r"[0-9a-fA-F]{128}", sig_hex):
            return False
        if self.key is not None:
            try:
                self.key.verify(bytes.fromhex(sig_hex), message)
                return True
            except Exception:
                return False
        msg, sig = os.path.join(self.tmp.name, "msg"), os.path.join(self.tmp.name, "sig")
        with open(msg, "wb") as f:
            f.write(message)
        with open(sig, "wb") as f:
            f.write(bytes.fromhex(sig_hex))
        return subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", self.pem, "-rawin",
                               "-in", msg, "-sigfile", sig], capture_output=True).returncode == 0


def order(names, notes):
    """The files in chain order (by first seq; a file holding only a torn line last)."""
    files, problem = [], None
    for name in names:
        kind, line, _ = next(lines_of(name), (None, b"", 0))
        if kind is None:
            notes.append(f"{name}: empty, ignored")
        elif kind == "too_long":
            problem = problem or tampered(name, 1, "line longer than 1 MiB")
        elif kind == "torn":
            files.append((float("inf"), name))
        elif m := chained(line):
            files.append((int(m[1]), name))
        else:
            problem = problem or tampered(name, 1, "not a chained audit record")
    if problem:
        raise problem
    files.sort(key=lambda f: f[0])  # stable: equal seqs keep the order given
    for (seq, name), (previous_seq, previous) in zip(files[1:], files):
        if seq == previous_seq != float("inf"):
            raise tampered(name, 1, f"starts at seq {seq} like {previous} (a copy, or a file of another chain)")
    return [name for _, name in files]


TS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z")


def ts_millis(ts):
    """The writer's ts as milliseconds since the epoch, or None."""
    m = TS.fullmatch(ts) if isinstance(ts, str) else None
    if not m:
        return None
    try:
        moment = datetime.datetime(*(int(g) for g in m.groups()[:6]), tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    return int(moment.timestamp()) * 1000 + int(m.group(7) or 0)


def verify(names, key, require_signed=False, max_unsigned_s=120):
    """Returns (exit code, problem, notes, warnings); raises Problem on tampering or bad input."""
    notes, warnings = [], []
    last_at = None        # (name, line, ts) of the last record
    files = order(names, notes)
    last = None           # (seq, hash) of the last record
    first_seq = records = checkpoints = 0
    last_checkpoint = None
    previous = None       # (name, size) of the file walked before
    torn = None           # (name, line, bytes) of a torn line not yet accounted for
    for index, name in enumerate(files):
        size, number, ends_in_checkpoint = 0, 0, False
        for what, line, size in lines_of(name):
            if what == "too_long":
                raise tampered(name, number + 1, "line longer than 1 MiB")
            if what == "torn":
                if torn:
                    raise tampered(torn[0], torn[1], "torn line not accounted for: the next file has no record")
                torn = (name, number + 1, len(line))
                ends_in_checkpoint = False
                break
            number += 1
            try:
                seq, prev, digest, record = parse_record(line)
            except ValueError as e:
                raise tampered(name, number, e)
            kind = record.get("kind", "request")
            if kind == "rotation" and number != 1:
                raise tampered(name, number, "rotation record inside a file")
            if number == 1 and previous:  # the link to the file before
                if kind != "rotation":
                    raise tampered(name, 1, f"does not start with a rotation record linking it to {previous[0]}")
                if record["previous_file"] != os.path.basename(previous[0]):
                    raise tampered(name, 1, f"rotation record links to {record['previous_file']!r}, "
                                            f"but the file before it is {previous[0]}")
                if record["previous_bytes"] != previous[1]:
                    raise tampered(name, 1, f"rotation record says {previous[0]} had {record['previous_bytes']} "
                                            f"bytes, it has {previous[1]}")
                torn_bytes = torn[2] if torn else 0
                if record["torn_bytes"] != torn_bytes:
                    if torn:
                        raise tampered(torn[0], torn[1], f"torn line not accounted for by {name}")
                    raise tampered(name, 1, f"rotation record says {previous[0]} ends with torn bytes")
                torn = None
            elif number == 1 and last is None:  # the first record given
                if kind == "rotation":
                    notes.append(f"{name} continues the chain from {record['previous_file']}, not given")
                elif seq != 1 or prev != GENESIS:
                    raise tampered(name, 1, f"seq {seq} neither starts a chain nor continues one")
            if last is None:
                first_seq = seq
            elif seq != last[0] + 1:
                raise tampered(name, number, f"seq {seq}, expected {last[0] + 1}")
            elif prev != last[1]:
                raise tampered(name, number, "prev is not the hash of the record before it")
            last = (seq, digest)
            records += 1
            if kind == "checkpoint":
                if key and record["key_id"] != key.key_id:
                    raise tampered(name, number, f"checkpoint signed by another key (key_id {record['key_id']})")
                message = f"giosg-audit-checkpoint:v1:{seq}:{prev}:{record['ts']}".encode()
                if key and not key.verify(message, record["sig"]):
                    raise tampered(name, number, "checkpoint signature does not verify")
                checkpoints += 1
                last_checkpoint = (seq, record["ts"])
            if kind == "gap":
                warnings.append(f"{name}:{number}: the writer dropped {record['dropped']} records here")
            ends_in_checkpoint = kind == "checkpoint"
            last_at = (name, number, record.get("ts"))
        previous = (name, size)
        if require_signed and index + 1 < len(files) and not ends_in_checkpoint:
            raise tampered(name, number, "a rotated file must end in a signed checkpoint (--require-signed)")

    if require_signed and records:
        if not last_checkpoint:
            raise tampered(last_at[0], last_at[1], f"no record is covered by a valid checkpoint of key_id "
                                                   f"{key.key_id} (--require-signed)")
        signed, latest = ts_millis(last_checkpoint[1]), ts_millis(last_at[2])
        if signed is not None and latest is not None and latest - signed > max_unsigned_s * 1000:
            raise tampered(last_at[0], last_at[1], f"{last[0] - last_checkpoint[0]} records after the last "
                                                   f"checkpoint span {(latest - signed) // 1000} s of ts, more "
                                                   f"than --max-unsigned-s {max_unsigned_s}")

    code, problem = 0, ""
    if torn:
        code, problem = 3, f"{torn[0]}:{torn[1]}: torn last line ({torn[2]} bytes): the writer stopped mid-write"
    if records:
        notes.append(f"{'intact' if code == 0 else 'intact up to the torn last line'}: {records} record(s) in "
                     f"{len(files)} file(s), seq {first_seq}..{last[0]}")
    if not key:
        notes.append("checkpoint signatures not checked (no --public-key)")
    elif last_checkpoint:
        after = last[0] - last_checkpoint[0]
        notes.append(f"{checkpoints} checkpoints verified; the last at seq {last_checkpoint[0]} "
                     f"({last_checkpoint[1]}), followed by {after} records")
        if after:
            warnings.append(f"{after} records after the last checkpoint not covered by a signature")
    elif records:
        warnings.append(f"no checkpoint: none of the {records} records is covered by a signature")
    return code, problem, notes, warnings


def main(argv):
    args, options, key_file, require_signed, max_unsigned = argv[1:], {}, None, False, None
    while args and args[0].startswith("--"):
        name, _, value = args[0].partition("=")
        if name == "--require-signed" and not value and not require_signed:
            require_signed, args = True, args[1:]
            continue
        if name not in ("--public-key", "--max-unsigned-s") or name in options:
            break
        if not value:
            if len(args) < 2:
                break
            value, args = args[1], args[1:]
        options[name], args = value, args[1:]
    key_file = options.get("--public-key")
    if "--max-unsigned-s" in options:
        max_unsigned = options["--max-unsigned-s"]
        max_unsigned = int(max_unsigned) if max_unsigned.isdigit() and int(max_unsigned) <= 366 * 86400 else -1
    usage_ok = (args and not any(a.startswith("--") for a in args) and (key_file or not require_signed)
                and (max_unsigned is None or (require_signed and max_unsigned >= 0)))
    if not usage_ok:
        print(f"usage: {os.path.basename(argv[0])} [--public-key FILE [--require-signed [--max-unsigned-s N]]] "
              f"FILE...", file=sys.stderr)
        return 2
    try:
        key = PublicKey(key_file) if key_file else None
    except (OSError, ValueError, TypeError) as e:
        print(f"cannot read public key {key_file}: {e}", file=sys.stderr)
        return 2
    try:
        code, problem, notes, warnings = verify(args, key, require_signed,
                                                120 if max_unsigned is None else max_unsigned)
    except Problem as p:
        print(p, file=sys.stderr)
        return p.exit_code
    if problem:
        print(problem, file=sys.stderr)
    for note in notes:
        print(note)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
