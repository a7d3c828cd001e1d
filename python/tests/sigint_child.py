"""Run by test_interrupt.py in a subprocess: blocks in one call on a hung vault-sim, and on
KeyboardInterrupt prints one JSON line (when it arrived, whether the handle is closed).

argv: KIND URL SESSION_ID UPLOAD_ID PATH HANDLER, KIND one of parts, sessions, verify,
upload, abort; HANDLER "default", "custom" (a SIGINT handler that only records the signal) or
"log" (the default handler, and a logging.Logger at DEBUG as log=, so that the interrupt's own
log line runs Python code inside the call)."""

import json
import logging
import signal
import sys
import time

import vault_parts as vp

kind, url, sid, upload_id, path, handler = sys.argv[1:]
got = []
if handler == "custom":
    signal.signal(signal.SIGINT, lambda *_: got.append(time.monotonic()))
opts = {}
if handler == "log":
    logger = logging.getLogger("vault_parts.test")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.NullHandler())
    opts["log"] = logger
obj = None
if kind == "parts":
    obj = vp.list_parts(url, sid, upload_id, **opts)
elif kind == "sessions":
    obj = vp.list_sessions(url, sid, **opts)
elif kind == "verify":
    obj = vp.verify(url, sid, upload_id, path, **opts)
elif kind == "upload":
    obj = vp.upload(url, sid, path, upload_session_id=upload_id, part_size=5 * 1024 * 1024, commit="none", **opts)
del sid
print("ready", flush=True)
result = {}
try:
    if obj is None:
        vp.abort(url, sys.argv[3], upload_id, **opts)
    else:
        for _ in obj:
            pass
    result["outcome"] = "returned"
except KeyboardInterrupt:
    result["outcome"] = "KeyboardInterrupt"
except vp.CancelledError as e:
    result["outcome"] = "CancelledError"
    result["message"] = e.message
result["at"] = time.monotonic()
result["closed"] = None if obj is None else obj.closed
result["handler_calls"] = got
print(json.dumps(result), flush=True)
