"""The P scenarios of make bench: the Python package (python/, the wheel carrying libvault_parts,
installed into the venv build/bench/pyvenv by bench/py_venv.sh) against what a scripting user
writes with `requests` and `hashlib`, and against the C library's own drivers. Every Python
contender runs in the same venv interpreter; every contender is a whole process, start-up and
imports included, timed from outside; ROUNDS rounds with the contenders alternating order.

P1  listing 2,000 one-part pages (limit 1) served by nginx, as S2 does with 10,000: the
    package's list_parts (bench/py_pkg.py list) against bench/py_requests.py; target: requests
    at least 8x the package's time. list_count.c (the C library alone) and the interpreter's
    start-up with each import are reported beside them.
P2  verifying V's 2 GiB file (410 parts of 5 MiB, hot cache) against vault-sim (release)
    serving its true parts: the package's verify (bench/py_pkg.py verify) against
    bench/py_md5_parts.py (hashlib); target: hashlib at least 8x the package's time.
    verify_file.c is reported beside them.
P3  a new upload of U1's 1 GiB file in 8 MiB parts (128) to vault-sim (release): the package's
    upload (bench/py_pkg.py upload, commit "commit": the job is not waited for, as
    bench/upload_file.c does) against upload_file.c; target: the package at most 1.1x the C
    program's time. bench/py_requests_upload.py (create, PUT each part, commit) is reported.
    vault-sim keeps every part in memory, committed or not: each run gets a fresh one.
The C drivers run against the wheel's own copy of libvault_parts (LD_LIBRARY_PATH), not
target/release's, so that the package and the C program time the same library build.

Run alone with `BENCH_ONLY=P make bench` (or python3 bench/py_package_bench.py after make
release, a wheel in build/wheels and sh bench/py_venv.sh). P_ONLY=13 runs P1 and P3 only;
BENCH_PYTHON names another interpreter that has vault_parts and requests installed.
"""
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import upload_bench  # noqa: E402  (U1's 1 GiB file, vault-sim start-up)
import verify_bench  # noqa: E402  (V's 2 GiB file, the C drivers' compiler step)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
SID = "bench-session-id"
MIB = 1024 * 1024
P1_PARTS = 2000
# Loopback only: a proxy from the environment must not see these requests (requests honours it).
ENV = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}


def venv_python(work):
    python = os.environ.get("BENCH_PYTHON") or os.path.join(work, "pyvenv", "bin", "python")
    if not os.path.exists(python):
        subprocess.run(["sh", os.path.join(BENCH, "py_venv.sh"), os.path.join(work, "pyvenv"),
                        os.path.join(ROOT, "build", "wheels")], check=True)
    return python


# The C drivers' environment: they load the wheel's own copy of libvault_parts (their run path is
# target/release, a DT_RUNPATH, which LD_LIBRARY_PATH overrides), so that both sides of a
# package-against-C comparison run the same library build. Set by run().
C_ENV = dict(ENV)
C = "libvault_parts C"


def timed(cmd, want=None, env=None):
    """(wall s, CPU s of the child, stdout); stops the bench when it fails or `want` is absent."""
    before = os.times()
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env or ENV)
    wall = time.perf_counter() - t
    after = os.times()
    if out.returncode != 0:
        sys.exit(f"bench: {' '.join(os.path.basename(c) for c in cmd[:3])} failed: {out.stderr.strip()[-2000:]}")
    if want is not None and want not in out.stdout:
        sys.exit(f"bench: {' '.join(os.path.basename(c) for c in cmd[:3])} did not print {want!r}: {out.stdout}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, out.stdout


def rounds_of(cmds, rounds, want, before_each=None):
    """Runs every contender `rounds` times, alternating order: {name: [(wall, cpu, stdout)]}."""
    runs = {c: [] for c in cmds}
    names = list(cmds)
    for r in range(rounds):
        for c in (names if r % 2 == 0 else list(reversed(names))):
            cmd = before_each(c) if before_each else cmds[c]
            runs[c].append(timed(cmd, want.get(c), C_ENV if c.startswith(C) else ENV))
    return runs


def fmt(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s * 1000:.0f} ms"


def inner(out):
    m = re.search(r"elapsed_ms ([\d.]+)", out)
    return float(m.group(1)) / 1000 if m else None


def table(title, runs, ref, size=None):
    """Prints the runs' table (ratios to `ref`); returns {name: median wall}."""
    med = {c: statistics.median(r[0] for r in rs) for c, rs in runs.items()}
    extra = " throughput |" if size else ""
    print()
    print(f"| {title} | median wall | min - max | CPU s | in-process | vs {ref} |{extra}")
    print("|---|---|---|---|---|---|" + ("---|" if size else ""))
    for c, rs in runs.items():
        walls = [r[0] for r in rs]
        ins = [inner(r[2]) for r in rs]
        ins = fmt(statistics.median(ins)) if all(i is not None for i in ins) else "-"
        tp = f" {size / med[c] / 1e6:,.0f} MB/s |" if size else ""
        print(f"| {c} | {fmt(med[c])} | {fmt(min(walls))} - {fmt(max(walls))} | "
              f"{statistics.median(r[1] for r in rs):.2f} | {ins} | {med[c] / med[ref]:.2f}x |{tp}")
    return med


def load():
    return f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"


PKG = "vault_parts package"


def p1(work, py, exes, rounds):
    import run as s_bench  # noqa: E402  (the S scenarios' page generator and nginx)

    port = s_bench.free_port()
    pages = s_bench.generate("P1", P1_PARTS, 1, port)
    urls = s_bench.page_urls("P1", pages, 1, port)
    base = f"http://127.0.0.1:{port}"
    cmds = {
        PKG: [py, os.path.join(BENCH, "py_pkg.py"), "list", base, SID, "P1", "1"],
        "python-requests (py_requests.py)": [py, os.path.join(BENCH, "py_requests.py"), urls[0], SID],
        "libvault_parts C (list_count)": [exes["list_count"], base, SID, "P1", "1"],
        "python + import vault_parts only": [py, "-c", "import vault_parts"],
        "python + import requests only": [py, "-c", "import requests"],
    }
    want = {c: f"parts {P1_PARTS}" for c in list(cmds)[:3]}
    nginx = s_bench.start_nginx(port)
    try:
        runs = rounds_of(cmds, rounds, want)
    finally:
        nginx.terminate()
        nginx.wait()
    med = table(f"P1 ({P1_PARTS} parts, {pages} pages of 1, nginx)", runs, PKG)
    req = med["python-requests (py_requests.py)"]
    ratio = req / med[PKG]
    per = lambda c, imp: (med[c] - med[imp]) / pages * 1e6
    print(f"P1: requests {ratio:.2f}x the package's time; per page after start-up: package "
          f"{per(PKG, 'python + import vault_parts only'):.0f} us, requests "
          f"{per('python-requests (py_requests.py)', 'python + import requests only'):.0f} us, "
          f"C {med['libvault_parts C (list_count)'] / pages * 1e6:.0f} us (start-up included); {load()}")
    return [("P1 package listing at least 8x faster than requests", ratio >= 8, f"{ratio:.2f}x")]


def p2(work, py, exes, rounds):
    path = verify_bench.test_file(work)
    part = verify_bench.PART
    size = os.path.getsize(path)
    count = -(-size // part)
    sim, url = upload_bench.start_sim(work, "p2", ["--upload-file", f"p2:alice:{path}:{part}:{count}"])
    cmds = {
        PKG: [py, os.path.join(BENCH, "py_pkg.py"), "verify", url, SID, "p2", path, str(part), "1000"],
        "python hashlib loop (py_md5_parts.py)": [py, os.path.join(BENCH, "py_md5_parts.py"), path, str(part)],
        "libvault_parts C (verify_file)": [exes["verify_file"], url, SID, "p2", path, str(part), "1000"],
    }
    want = {PKG: f"parts {count} ok {count} ", "python hashlib loop (py_md5_parts.py)": f"parts {count}",
            "libvault_parts C (verify_file)": f"ok {count} "}
    try:
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # hot cache
        runs = rounds_of(cmds, rounds, want)
    finally:
        sim.terminate()
        sim.wait()
    med = table(f"P2 ({size >> 20} MiB, {count} parts of 5 MiB, hot cache)", runs, PKG, size)
    ratio = med["python hashlib loop (py_md5_parts.py)"] / med[PKG]
    print(f"P2: hashlib {ratio:.2f}x the package's time; the package {med[PKG] / med['libvault_parts C (verify_file)']:.2f}x "
          f"the C verifier's; {load()}")
    return [("P2 package verify at least 8x faster than a hashlib loop", ratio >= 8, f"{ratio:.2f}x")]


def p3(work, py, exes, rounds):
    path = upload_bench.random_file(work, "u1.bin", 1024 * MIB)
    part = 8 * MIB
    size = os.path.getsize(path)
    count = -(-size // part)
    staging = "/u/p3.bin"
    names = {PKG: None, "libvault_parts C (upload_file)": None, "python-requests loop (py_requests_upload.py)": None}
    want = {PKG: f"parts {count} kept 0 sent {count} committed 1 ",
            "libvault_parts C (upload_file)": f"parts {count} kept 0 sent {count} ",
            "python-requests loop (py_requests_upload.py)": f"parts {count} committed 1 "}
    sim = [None]

    def fresh(c):
        """A fresh vault-sim for each run (it keeps every part in memory); the command for it."""
        if sim[0] is not None:
            sim[0].terminate()
            sim[0].wait()
        sim[0], url = upload_bench.start_sim(work, "p3", [])
        return {
            PKG: [py, os.path.join(BENCH, "py_pkg.py"), "upload", url, SID, path, str(part), staging],
            "libvault_parts C (upload_file)": [exes["upload_file"], url, SID, path, str(part), "new", staging],
            "python-requests loop (py_requests_upload.py)": [py, os.path.join(BENCH, "py_requests_upload.py"), url,
                                                             SID, path, str(part), staging],
        }[c]

    try:
        runs = rounds_of(names, rounds, want, before_each=fresh)
    finally:
        if sim[0] is not None:
            sim[0].terminate()
            sim[0].wait()
    for c, rs in runs.items():
        if c != "python-requests loop (py_requests_upload.py)" and "committed 1 " not in rs[0][2]:
            sys.exit(f"bench: {c} did not commit: {rs[0][2]}")
    med = table(f"P3 (1 GiB, {count} parts of 8 MiB, new session, loopback)", runs, "libvault_parts C (upload_file)",
                size)
    ratio = med[PKG] / med["libvault_parts C (upload_file)"]
    rss = lambda c: statistics.median(int(re.search(r"maxrss_kib (\d+)", r[2]).group(1)) for r in runs[c]) / 1024
    print(f"P3: the package {ratio:.2f}x the C program's time; peak RSS package {rss(PKG):.1f} MiB, "
          f"C {rss('libvault_parts C (upload_file)'):.1f} MiB; {load()}")
    return [("P3 package upload at most 1.1x the C library's (upload_file.c)", ratio <= 1.1, f"{ratio:.2f}x")]


def run(work, rounds):
    """Runs P1-P3 and prints their tables; returns [(target, met, value)]."""
    os.makedirs(work, exist_ok=True)
    py = venv_python(work)
    version = subprocess.run([py, "-c", "import sys, vault_parts, requests; print(sys.version.split()[0], "
                              "vault_parts.__version__, vault_parts.__file__, requests.__version__)"],
                             capture_output=True, text=True, check=True, env=ENV).stdout.split()
    print(f"bench: P: Python {version[0]}, vault_parts {version[1]} ({version[2]}), requests {version[3]}; {load()}",
          flush=True)
    exes = verify_bench.build(work, ["list_count", "verify_file", "upload_file"])
    native = os.path.join(os.path.dirname(version[2]), "_native", "lib_native.so")
    libdir = os.path.join(work, "pylib")
    os.makedirs(libdir, exist_ok=True)
    link = os.path.join(libdir, "libvault_parts.so.0")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(native, link)
    C_ENV["LD_LIBRARY_PATH"] = libdir
    ldd = subprocess.run(["ldd", exes["upload_file"]], capture_output=True, text=True, env=C_ENV).stdout
    if libdir not in ldd:
        sys.exit(f"bench: the C drivers do not load the wheel's library: {ldd}")
    print(f"bench: P: the C drivers load the wheel's library ({native})", flush=True)
    only = os.environ.get("P_ONLY", "123")
    targets = []
    for n, scenario in (("1", p1), ("2", p2), ("3", p3)):
        if n in only:
            targets += scenario(work, py, exes, rounds)
    return targets


def main():
    work = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build", "bench")))
    targets = run(work, int(os.environ.get("ROUNDS", "5")))
    for what, ok, value in targets:
        print(f"{'met   ' if ok else 'MISSED'} {what}: {value}")
    met = sum(ok for _, ok, _ in targets)
    print(f"targets: {met} met, {len(targets) - met} missed")
    return 0 if met == len(targets) else 1


if __name__ == "__main__":
    sys.exit(main())
