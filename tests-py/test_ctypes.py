"""The C ABI from a second language: Python's ctypes (standard library only) against vault-sim.

Environment: VAULT_PARTS_LIB (path to libvault_parts.so), VAULT_SIM (path to vault-sim).
Prints one line per check and "ctypes: N passed, N failed"; exits 1 on any failure.
"""
import ctypes
import os
import subprocess
import sys
import tempfile
import time


class VaultPart(ctypes.Structure):
    _fields_ = [
        ("part_number", ctypes.c_uint32),
        ("size", ctypes.c_uint64),
        ("part_content_md5", ctypes.c_char * 33),
    ]


LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
ROW, DONE, E_ARG, E_AUTH, E_ACCESS, E_TLS = 100, 101, 1, 2, 3, 9


def load(path):
    lib = ctypes.CDLL(path)
    it_p = ctypes.c_void_p
    lib.vault_parts_open.argtypes = [ctypes.POINTER(it_p), ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.vault_parts_open.restype = ctypes.c_int
    lib.vault_parts_next.argtypes = [it_p, ctypes.POINTER(VaultPart)]
    lib.vault_parts_next.restype = ctypes.c_int
    lib.vault_parts_free.argtypes = [it_p]
    lib.vault_parts_free.restype = None
    lib.vault_parts_set_limit.argtypes = [it_p, ctypes.c_uint32]
    lib.vault_parts_set_limit.restype = ctypes.c_int
    lib.vault_parts_set_log.argtypes = [it_p, LOG_FN, ctypes.c_void_p]
    lib.vault_parts_set_log.restype = ctypes.c_int
    for name in ("vault_parts_set_ca_file", "vault_parts_add_ca_file"):
        getattr(lib, name).argtypes = [it_p, ctypes.c_char_p]
        getattr(lib, name).restype = ctypes.c_int
    lib.vault_parts_use_system_roots.argtypes = [it_p]
    lib.vault_parts_use_system_roots.restype = ctypes.c_int
    for name in ("vault_parts_errmsg", "vault_parts_error_type"):
        getattr(lib, name).argtypes = [it_p]
        getattr(lib, name).restype = ctypes.c_char_p
    lib.vault_parts_errstr.argtypes = [ctypes.c_int]
    lib.vault_parts_errstr.restype = ctypes.c_char_p
    lib.vault_parts_burst_remaining.argtypes = [it_p]
    lib.vault_parts_burst_remaining.restype = ctypes.c_int64
    lib.vault_parts_version.argtypes = []
    lib.vault_parts_version.restype = ctypes.c_char_p
    return lib


def list_parts(lib, url, sid, upload, limit=None, log=None, trust=None):
    """Returns (code, parts, errmsg, error_type). trust: None, ("only"|"add", pem_path) or "system"."""
    it = ctypes.c_void_p()
    rc = lib.vault_parts_open(ctypes.byref(it), url.encode(), sid.encode(), upload.encode())
    if rc == 0 and trust == "system":
        rc = lib.vault_parts_use_system_roots(it)
    elif rc == 0 and trust is not None:
        setter = lib.vault_parts_set_ca_file if trust[0] == "only" else lib.vault_parts_add_ca_file
        rc = setter(it, trust[1].encode())
    callback = LOG_FN(lambda _ud, level, msg: log.append((level, msg.decode()))) if log is not None else None
    if rc == 0 and limit is not None:
        rc = lib.vault_parts_set_limit(it, limit)
    if rc == 0 and callback is not None:
        rc = lib.vault_parts_set_log(it, callback, None)
    parts = []
    if rc == 0:
        part = VaultPart()
        while (rc := lib.vault_parts_next(it, ctypes.byref(part))) == ROW:
            parts.append((part.part_number, part.size, part.part_content_md5.decode()))
    result = (rc, parts, lib.vault_parts_errmsg(it).decode(), lib.vault_parts_error_type(it).decode())
    lib.vault_parts_free(it)
    return result


def start_sim(tmp, name, *args):
    """Starts vault-sim with `args`; returns (process, base URL)."""
    url_file = os.path.join(tmp, name + ".url")
    sim = subprocess.Popen([os.environ["VAULT_SIM"], "--port", "0", "--url-file", url_file, *args],
                           stdout=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(url_file) and os.path.getsize(url_file) > 0:
            break
        time.sleep(0.05)
    return sim, open(url_file).read().strip()


def check_trust_paths(lib, tmp, check):
    """Each trust setter against an HTTPS vault-sim whose CA is made at run time."""
    ca = os.path.join(tmp, "ca.pem")
    sim, url = start_sim(tmp, "tls", "--user", "py-session-id-alice:alice", "--upload", "tls:alice:3", "--tls-ca-out", ca)
    try:
        check("HTTPS vault-sim", url.startswith("https://"), url)
        rc, _, errmsg, _ = list_parts(lib, url, "py-session-id-alice", "tls")
        check("the built-in roots refuse the test CA", rc == E_TLS and "UnknownIssuer" in errmsg, errmsg)
        for trust in [("only", ca), ("add", ca)]:
            rc, parts, errmsg, _ = list_parts(lib, url, "py-session-id-alice", "tls", trust=trust)
            check(f"{trust[0]} CA file lists 3 parts", rc == DONE and len(parts) == 3, errmsg)
        saved = {k: os.environ.get(k) for k in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        try:
            os.environ["SSL_CERT_FILE"] = ca
            os.environ["SSL_CERT_DIR"] = os.path.join(tmp, "no-such-dir")
            rc, parts, errmsg, _ = list_parts(lib, url, "py-session-id-alice", "tls", trust="system")
            check("system roots honour SSL_CERT_FILE", rc == DONE and len(parts) == 3, errmsg)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        sim.kill()
        sim.wait()


def main():
    lib = load(os.environ["VAULT_PARTS_LIB"])
    passed = failed = 0

    def check(name, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
            print(f"ok: {name}")
        else:
            failed += 1
            print(f"FAILED: {name} {detail}")

    with tempfile.TemporaryDirectory() as tmp:
        url_file = os.path.join(tmp, "url")
        sim = subprocess.Popen(
            [os.environ["VAULT_SIM"], "--port", "0", "--url-file", url_file, "--user", "py-session-id-alice:alice",
             "--user", "py-session-id-bob:bob", "--upload", "pyup:alice:12:5242880:77"],
            stdout=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(url_file) and os.path.getsize(url_file) > 0:
                    break
                time.sleep(0.05)
            url = open(url_file).read().strip()

            check("version is MAJOR.MINOR.PATCH", lib.vault_parts_version().decode().count(".") == 2)
            log = []
            rc, parts, errmsg, _ = list_parts(lib, url, "py-session-id-alice", "pyup", limit=5, log=log)
            check("lists to DONE", rc == DONE, f"rc={rc} {errmsg}")
            check("12 parts in order", [p[0] for p in parts] == list(range(1, 13)), str(parts))
            check("sizes are 64-bit values", [p[1] for p in parts] == [5242880] * 11 + [77])
            check("md5s are 32 lowercase hex digits",
                  all(len(p[2]) == 32 and all(c in "0123456789abcdef" for c in p[2]) for p in parts))
            check("the log callback saw 3 pages", sum("part" in m and "page" in m for _, m in log) == 3, str(log))
            check("no log line holds the session ID", not any("py-session-id-alice" in m for _, m in log))

            rc, parts, errmsg, vtype = list_parts(lib, url, "py-wrong-session-id", "pyup")
            check("a wrong session ID gives E_AUTH", rc == E_AUTH and vtype == "INVALID_SESSION_ID", f"{rc} {vtype}")
            check("errmsg explains without the session ID", "INVALID_SESSION_ID" in errmsg and "py-wrong-session-id" not in errmsg)
            rc, _, _, vtype = list_parts(lib, url, "py-session-id-bob", "pyup")
            check("another user's session gives E_ACCESS", rc == E_ACCESS and vtype == "INSUFFICIENT_ACCESS")
            rc, _, errmsg, _ = list_parts(lib, "ftp://nowhere", "py-session-id-alice", "pyup")
            check("a bad URL gives E_ARG", rc == E_ARG and "vault_url" in errmsg, errmsg)
            check("errstr names codes", lib.vault_parts_errstr(E_AUTH) == b"session ID rejected")
            check("NULL handles are safe", lib.vault_parts_errmsg(None) == b"" and lib.vault_parts_burst_remaining(None) == -1)
            check_trust_paths(lib, tmp, check)
        finally:
            sim.kill()
            sim.wait()

    print(f"ctypes: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
