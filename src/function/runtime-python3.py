#!/usr/bin/env python3
# openedge Python 3 function runtime (stdlib only), embedded in the openedge executable and run by
# `openedge module openedge-function-python3`. Speaks the invocation protocol of src/function/PROTOCOL.md.
"""Serves calls for `def handler(event, context)` functions over a unix socket, one call at a time.

argv[1] is the validated runtime config as JSON (the openedge runner parses service.yml):
  {"socket": "/abs/path.sock", "functions": [{"name", "module", "exportName", "codedir", "timeoutMs"}]}
"""

import binascii
import os
import select
import struct
import sys
import time

try:  # the C modules themselves: their Python wrappers' enum set-up costs ~5 ms of every cold start
    import _signal as signal
    import _socket as socket
except ImportError:
    import signal
    import socket

# imported when first needed (startup time): traceback, json (see _Json)

MAGIC = b"beehv1"
HEADER = struct.Struct(">6sHI")  # magic+version, codec, body length
CODEC_JSON = 0
MAX_FRAME = 4 * 1024 * 1024
BIN_TAG = "$bin"


class _Json:
    """JSON through the C accelerator of the json package, without importing the package: json's
    decoder compiles regular expressions at import (re, enum), milliseconds of every cold start for a
    handler that never touches json itself. Checked once; the json package where it does not fit."""

    strict = True  # what the C scanner reads from its context
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__
    memo = {}

    def __init__(self):
        try:
            from _json import encode_basestring_ascii, make_encoder, make_scanner

            self._scan = make_scanner(self)

            # one C encoder per (separators, default), built once: building one costs more than a call.
            # Its circular-reference markers start empty on every call (an encode that raised leaves
            # entries behind, and a stale id could match a new object).
            encoders = {}

            def encoder(separators, default):
                key = (separators, default)
                made = encoders.get(key)
                if made is None:
                    markers = {}
                    made = encoders[key] = (make_encoder(markers, default, encode_basestring_ascii, None,
                                                         separators[1], separators[0], False, False, True),
                                            markers)
                made[1].clear()
                return made[0]

            self._encoder = encoder
            if self.dumps({"a": [1, "\u00e9", None]}) != '{"a": [1, "\\u00e9", null]}' or \
                    self.loads('{"a": [1.5, "x", true]}') != {"a": [1.5, "x", True]}:
                raise ValueError("unexpected results")
        except Exception:
            import json

            self.loads = json.loads
            self.dumps = lambda value, default=None, separators=(", ", ": "): json.dumps(
                value, default=default, separators=separators)

    def loads(self, text):
        try:
            value, end = self._scan(text, 0)
            if end == len(text) or not text[end:].strip():
                return value
        except Exception:
            pass
        import json  # not JSON (or more after it): the json package's own error says where

        return json.loads(text)

    def dumps(self, value, default=None, separators=(", ", ": ")):
        return "".join(self._encoder(separators, default)(value, 0))


json = _Json()


def log(level, msg, **fields):
    now = time.time()
    ts = "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)), int(now * 1000) % 1000)
    record = {"level": level, "ts": ts, "msg": msg}
    record.update(fields)
    sys.stderr.write(json.dumps(record, default=str) + "\n")
    sys.stderr.flush()


class HandlerTimeout(BaseException):
    """Raised inside a handler when its time is up; a BaseException so `except Exception` lets it by."""


class Terminate(BaseException):
    """Raised by SIGTERM/SIGINT wherever the runtime is: it unwinds to main and exits 0."""


def _revive(obj):
    if len(obj) == 1 and BIN_TAG in obj and isinstance(obj[BIN_TAG], str):
        return binascii.a2b_base64(obj[BIN_TAG])
    return obj


def _tag(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {BIN_TAG: binascii.b2a_base64(bytes(value), newline=False).decode("ascii")}
    raise TypeError("not JSON serializable: %s" % type(value).__name__)


def encode_frame(message):
    body = json.dumps(message, default=_tag, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(MAGIC, CODEC_JSON, len(body)) + body


def event_of(payload):
    """OpenEdge's event: the payload JSON-decoded when it parses, the bytes otherwise."""
    if not payload:
        return payload
    try:
        return json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return payload


def payload_of(result):
    """dict/list (and numbers, booleans) -> JSON; bytes as they are; str -> UTF-8; None/empty -> None."""
    if result is None:
        return None
    if isinstance(result, (bytes, bytearray, memoryview)):
        data = bytes(result)
    elif isinstance(result, str):
        data = result.encode("utf-8")
    else:
        data = json.dumps(result).encode("utf-8")
    return data or None


def load_function(spec):
    codedir = spec["codedir"]
    if not os.path.isdir(codedir):
        raise RuntimeError('function "%s": codedir "%s" does not exist' % (spec["name"], codedir))
    if codedir not in sys.path:
        sys.path.insert(0, codedir)
    try:
        __import__(spec["module"])  # importlib itself would add its own import to every cold start
        module = sys.modules[spec["module"]]
    except SyntaxError as err:
        raise RuntimeError('function "%s": syntax error in %s line %s: %s'
                           % (spec["name"], err.filename, err.lineno, err.msg)) from None
    except Exception as err:  # ImportError, or whatever the module raised at import
        raise RuntimeError('function "%s": cannot import module "%s" from "%s": %s: %s'
                           % (spec["name"], spec["module"], codedir, type(err).__name__, err)) from None
    fn = getattr(module, spec["exportName"], None)
    if not callable(fn):
        raise RuntimeError('function "%s": module "%s" has no function "%s" (handler "%s.%s")'
                           % (spec["name"], spec["module"], spec["exportName"], spec["module"],
                              spec["exportName"]))
    return fn


class _Watchdog:
    """Bounds each handler call with one real-time timer that stays armed between calls.

    Arming and disarming ITIMER_REAL around every call cost two system calls per call; instead the
    timer is set only when none is due by the new call's deadline, and when it fires early (for a
    deadline that has since moved on) it is set again for the call now running, or left off when idle.
    SIGALRM interrupts Python code and blocking sleeps/reads in this thread.
    """

    def __init__(self):
        self.fires_at = 0.0  # monotonic time the armed timer fires at; 0 when it is off
        self.deadline = None  # the running call's deadline; None between calls

    def start(self, timeout_ms):
        now = time.monotonic()
        self.deadline = now + timeout_ms / 1000.0
        if self.fires_at == 0.0 or self.fires_at > self.deadline:
            signal.setitimer(signal.ITIMER_REAL, self.deadline - now)
            self.fires_at = self.deadline

    def stop(self):
        self.deadline = None

    def on_alarm(self, signum, frame):
        self.fires_at = 0.0
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.deadline = None
            raise HandlerTimeout()
        signal.setitimer(signal.ITIMER_REAL, left)
        self.fires_at = self.deadline


_watchdog = _Watchdog()


def invoke(functions, call):
    """The answer content and operation for one call: ("response", {...}) or ("error", {...})."""
    name = call.get("functionName")
    entry = functions.get(name)
    if entry is None:
        return "error", {"errorType": "UnknownFunctionError",
                         "errorMessage": 'no function "%s" in this runtime (it has: %s)'
                                         % (name, ", ".join(functions))}
    fn, timeout_ms = entry
    if isinstance(call.get("timeout"), (int, float)) and call["timeout"] > 0:
        timeout_ms = min(timeout_ms, call["timeout"])
    invoke_id = call.get("functionInvokeId", "")
    context = {
        "messageQOS": call.get("qos", 0),
        "messageTopic": call.get("topic", ""),
        "messageTimestamp": call.get("timestamp", 0),
        "functionName": name,
        "functionInvokeID": invoke_id,
        "invokeid": invoke_id,
    }
    payload = call.get("payload")
    if isinstance(payload, dict):
        payload = _revive(payload)
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    elif payload is None:
        payload = b""
    event = event_of(payload)
    _watchdog.start(timeout_ms)
    try:
        try:
            result = fn(event, context)
        finally:
            _watchdog.stop()
        data = payload_of(result)
        # tagged here: the encoder's fallback for bytes is a Python call per answer
        return "response", {"payload": None if data is None else _tag(data)}
    except HandlerTimeout:
        return "error", {"errorType": "TimeoutError",
                         "errorMessage": 'function "%s" timed out after %d ms' % (name, timeout_ms)}
    except Exception as err:
        return "error", {"errorType": type(err).__name__, "errorMessage": str(err)}


_answer_ids = iter(range(1, 1 << 62))
_id_prefix = "%s-%x-" % (os.urandom(6).hex(), os.getpid())


def answer(call_msg, operation, content):
    header = call_msg.get("header", {})
    route = call_msg.get("route", {})
    return {
        "header": {"id": "%s%x" % (_id_prefix, next(_answer_ids)), "parentId": header.get("id", ""),
                   "timestamp": int(time.time() * 1000), "resourceVersion": header.get("resourceVersion", ""),
                   "sync": bool(header.get("sync", False)), "type": header.get("type", "")},
        "route": {"source": route.get("destination", ""), "destination": route.get("source", ""),
                  "group": route.get("group", ""), "operation": operation, "resource": route.get("resource", "")},
        "content": content,
    }


def handle(functions, msg):
    route = msg.get("route") if isinstance(msg, dict) else None
    if not isinstance(route, dict) or route.get("operation") != "invoke":
        op = route.get("operation") if isinstance(route, dict) else None
        return answer(msg if isinstance(msg, dict) else {}, "error",
                      {"errorType": "BadRequestError",
                       "errorMessage": 'unsupported operation "%s" (expected "invoke")' % op})
    content = msg.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("functionName"), str):
        return answer(msg, "error", {"errorType": "BadRequestError",
                                     "errorMessage": "call content.functionName must be a string"})
    operation, result = invoke(functions, content)
    return answer(msg, operation, result)


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def frames(self):
        """Whole frames now buffered (decoded); raises ValueError on a broken stream."""
        out = []
        buf = self.buf
        at = 0
        end = len(buf)
        # bodies decoded straight from the buffer, and what was read dropped once at the end: no copy
        # of each body, no shifting of the rest per frame
        with memoryview(buf) as view:
            while end - at >= HEADER.size:
                magic, codec, length = HEADER.unpack_from(buf, at)
                if magic != MAGIC:
                    raise ValueError("bad frame magic or version")
                if codec != CODEC_JSON:
                    raise ValueError("codec %d unsupported (this runtime speaks JSON, codec 0)" % codec)
                if length > MAX_FRAME:
                    raise ValueError("frame of %d bytes exceeds %d" % (length, MAX_FRAME))
                start = at + HEADER.size
                if end - start < length:
                    break
                out.append(json.loads(str(view[start:start + length], "utf-8")))
                at = start + length
        if at:
            del buf[:at]
        return out


class _BusyPoll:
    """busypoll: after an answer, look for the next call without sleeping for a window that adapts as
    src/lib/busy-poll.ts describes (grows while calls keep coming within the longest window, shrinks
    while they do not), and never while every CPU has something else to run."""

    def __init__(self, max_ms):
        self.max_ns = int(max_ms * 1e6)
        self.window = 0
        self.until = 0
        self.quiet_since = 0
        self.clock = time.monotonic_ns
        self.cpus = os.cpu_count() or 1  # loadavg counts runnable tasks on every CPU
        try:
            self.loadavg = os.open("/proc/loadavg", os.O_RDONLY)
        except OSError:
            self.loadavg = None

    def cpu_spare(self):
        if self.loadavg is None:
            return True
        try:
            fields = os.pread(self.loadavg, 64, 0).split(b" ", 4)
            return int(fields[3].split(b"/", 1)[0]) <= self.cpus
        except (OSError, ValueError, IndexError):
            return True

    def extend(self):
        now = self.clock()
        if now < self.until:
            self.until = now + self.window
            return
        if self.quiet_since:
            start = self.max_ns // 4
            if now - self.quiet_since <= self.max_ns:
                self.window = min(self.max_ns, max(self.window * 2, start))
            else:
                self.window = 0 if self.window // 2 < start else self.window // 2
        self.quiet_since = now
        self.until = now + self.window if self.window and self.cpu_spare() else 0

    def poll(self, poller):
        """Polls until a call is ready or the window ends; returns what poll(0) found, or None."""
        clock = self.clock
        # other work waiting for a CPU is looked for every round: polling must give way at once
        while clock() < self.until and self.cpu_spare():
            ready = poller.poll(0)
            if ready:
                return ready
        if self.until:
            self.until = 0
            self.quiet_since = clock()
        return None


def serve(listener, functions, busy_poll_ms=0):
    # poll, registered once (select() rebuilds its sets every call), and one receive buffer reused:
    # recv(256 KiB) would allocate (and, past malloc's mmap threshold, map and unmap) that much per call
    poller = select.poll()
    poller.register(listener.fileno(), select.POLLIN)
    conns = {}
    chunk = bytearray(262144)
    view = memoryview(chunk)
    busy = _BusyPoll(busy_poll_ms) if busy_poll_ms > 0 else None
    while True:
        ready = busy.poll(poller) if busy else None
        if not ready:
            ready = poller.poll()
        for fd, _ in ready:
            if fd == listener.fileno():
                accepted, _ = listener._accept()  # what socket.accept() does, without its wrapper module
                client = socket.socket(fileno=accepted)
                client.setblocking(True)
                conns[accepted] = Connection(client)
                poller.register(accepted, select.POLLIN)
                continue
            conn = conns.get(fd)
            if conn is None:
                continue
            sock = conn.sock
            try:
                n = sock.recv_into(chunk)
            except OSError:
                n = 0
            if not n:
                poller.unregister(fd)
                del conns[fd]
                sock.close()
                continue
            conn.buf += view[:n]
            try:
                for msg in conn.frames():
                    sock.sendall(encode_frame(handle(functions, msg)))
                if busy:
                    busy.extend()
            except (ValueError, OSError) as err:
                log("warn", "function_frame_rejected", error=str(err))
                poller.unregister(fd)
                del conns[fd]
                sock.close()


def main():
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGALRM, _watchdog.on_alarm)
    instance = os.environ.get("OPENEDGE_SERVICE_INSTANCE_NAME", "")
    listener = None
    path = None
    try:
        config = json.loads(sys.argv[1])
        path = config["socket"]
        functions = {}
        for spec in config["functions"]:
            functions[spec["name"]] = (load_function(spec), int(spec["timeoutMs"]))
        if os.path.exists(path):
            os.unlink(path)  # a stale socket left by a crashed instance
        os.makedirs(os.path.dirname(path), exist_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(64)
    except Terminate:
        return 0
    except Exception as err:
        import traceback

        log("error", "function_runtime_start_failed", module="function-python3", instance=instance,
            runtime="python3", error=str(err) if isinstance(err, RuntimeError) else
            "".join(traceback.format_exception_only(type(err), err)).strip())
        return 1
    log("info", "function_runtime_ready", module="function-python3", instance=instance, runtime="python3",
        socket=path, functions=list(functions), python=sys.version.split()[0])
    try:
        serve(listener, functions, float(config.get("busyPollMs") or 0))
    except Terminate:
        log("info", "function_runtime_stopping", module="function-python3", instance=instance)
    finally:
        listener.close()
        try:
            os.unlink(path)
        except OSError:
            pass
    return 0


def _terminate(signum, frame):
    # a second signal (the engine signals the whole group, the runner forwards) must not cut cleanup short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Terminate()


if __name__ == "__main__":
    sys.exit(main())
