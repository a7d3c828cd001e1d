"""The V scenarios of make bench: vault_parts_verify_* (through bench/verify_file.c) on a 2 GiB
file in 5 MiB parts (410), against vault-sim (release) serving the file's true sizes and MD5s.

V1  hot page cache: the verifier against `md5sum FILE`, `openssl md5 FILE` and a Python hashlib
    loop over the parts; target >= 6x md5sum's throughput, peak RSS <= 64 MiB.
V2  end to end at limit 50 with 50 ms added to every response: wall <= 1.1x the larger of
    listing alone (list_count) and hashing alone (the V1 verifier: one page, no delay).
V3  cold cache (echo 3 > /proc/sys/vm/drop_caches, when permitted): verifier, md5sum and a
    plain `dd` read, to show what bounds it. Reported, not asserted.

Run alone with `BENCH_ONLY=V make bench` (or python3 bench/verify_bench.py after make release).
"""
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SID = "bench-session-id"
PART = 5 * 1024 * 1024
SIZE = 2 * 1024 * 1024 * 1024
# Where cargo put the release build: CARGO_TARGET_DIR when set (as make passes it on).
RELEASE = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "release")


def build(work, names=("verify_file", "list_count")):
    """Compiles the C drivers `names` (bench/NAME.c) against the release library; returns their paths."""
    release = RELEASE
    lib = os.path.join(release, "libvault_parts.so.0")
    if not os.path.exists(lib):
        os.symlink("libvault_parts.so", lib)
    exes = {}
    for name in names:
        exe = os.path.join(work, name)
        subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O2",
                        "-I" + os.path.join(ROOT, "include"), "-I" + os.path.join(ROOT, "tests-c"),
                        os.path.join(ROOT, "bench", f"{name}.c"), "-o", exe, "-L" + release,
                        f"-Wl,-rpath,{release}", "-lvault_parts"], check=True)
        exes[name] = exe
    return exes


def test_file(work):
    path = os.path.join(work, "v.bin")
    if not os.path.exists(path) or os.path.getsize(path) != SIZE:
        print(f"bench: writing {SIZE >> 20} MiB of random bytes to {path}", flush=True)
        with open("/dev/urandom", "rb") as src, open(path, "wb") as dst:
            for _ in range(SIZE // (8 << 20)):
                dst.write(src.read(8 << 20))
    return path


def start_sim(work, path):
    """vault-sim with v1 (no delay) and v2 (50 ms per response), both the file's true parts."""
    url_file = os.path.join(work, "vsim.url")
    if os.path.exists(url_file):
        os.remove(url_file)
    sim = subprocess.Popen([os.path.join(RELEASE, "vault-sim"), "--url-file", url_file,
                            "--user", f"{SID}:alice",
                            "--upload-file", f"v1:alice:{path}:{PART}:{SIZE // PART + 1}",
                            "--upload-file", f"v2:alice:{path}:{PART}:{SIZE // PART + 1}",
                            "--fault", "v2:all:delay=50"], stdout=subprocess.DEVNULL)
    for _ in range(3000):  # it hashes the file twice before listening
        if os.path.exists(url_file) and os.path.getsize(url_file) > 0:
            with open(url_file) as f:
                return sim, f.read().strip()
        if sim.poll() is not None:
            sys.exit("bench: vault-sim exited")
        time.sleep(0.1)
    sim.kill()
    sys.exit("bench: vault-sim did not start")


def timed(cmd):
    """Wall seconds, CPU seconds of the child, stdout."""
    before = os.times()
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = os.times()
    if out.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:2])} failed: {out.stderr.strip()}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, out.stdout


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def fmt(s):
    return f"{s * 1000:.0f} ms"


def scenarios(exes, path, url, rounds):
    verify = lambda upload, limit: [exes["verify_file"], url, SID, upload, path, str(PART), str(limit)]
    v1 = {
        "libvault_parts verify": verify("v1", 1000),
        "md5sum": ["md5sum", path],
        "openssl md5": ["openssl", "md5", path],
        "python hashlib loop": [sys.executable, os.path.join(ROOT, "bench", "py_md5_parts.py"), path, str(PART)],
    }
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # hot cache
    times = {c: [] for c in v1}
    cpu = {c: [] for c in v1}
    rss = []
    for r in range(rounds):
        order = list(v1) if r % 2 == 0 else list(reversed(v1))
        for c in order:
            wall, used, out = timed(v1[c])
            times[c].append(wall)
            cpu[c].append(used)
            m = re.search(r"maxrss_kib (\d+)", out)
            if m:
                rss.append(int(m.group(1)))
            if c == "libvault_parts verify" and "ok 410 " not in out:
                sys.exit(f"bench: the verifier did not find 410 OK parts: {out}")
    print()
    print("| V1 (2 GiB, 410 parts of 5 MiB, hot cache) | median wall | min - max | throughput | CPU s | vs verifier |")
    print("|---|---|---|---|---|---|")
    med = {c: statistics.median(ts) for c, ts in times.items()}
    lib = med["libvault_parts verify"]
    for c, ts in times.items():
        print(f"| {c} | {fmt(med[c])} | {fmt(min(ts))} - {fmt(max(ts))} | {SIZE / med[c] / 1e6:,.0f} MB/s | "
              f"{statistics.median(cpu[c]):.2f} | {med[c] / lib:.2f}x |")
    peak = statistics.median(rss)
    print(f"V1: verifier peak RSS {peak / 1024:.1f} MiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    # V2: listing alone, hashing alone (= the V1 verifier), end to end.
    v2 = {"listing alone (limit 50, +50 ms)": [exes["list_count"], url, SID, "v2", "50"],
          "end to end (limit 50, +50 ms)": verify("v2", 50)}
    t2 = {c: [] for c in v2}
    for r in range(rounds):
        for c in (v2 if r % 2 == 0 else reversed(list(v2))):
            t2[c].append(timed(v2[c])[0])
    listing = statistics.median(t2["listing alone (limit 50, +50 ms)"])
    e2e = statistics.median(t2["end to end (limit 50, +50 ms)"])
    bound = max(listing, lib)
    print()
    print("| V2 | median wall | min - max |")
    print("|---|---|---|")
    print(f"| hashing alone (V1 verifier) | {fmt(lib)} | {fmt(min(times['libvault_parts verify']))} - "
          f"{fmt(max(times['libvault_parts verify']))} |")
    for c, ts in t2.items():
        print(f"| {c} | {fmt(statistics.median(ts))} | {fmt(min(ts))} - {fmt(max(ts))} |")
    print(f"V2: end to end is {e2e / bound:.2f}x max(listing alone, hashing alone); "
          f"{e2e / (listing + lib):.2f}x their sum")

    cold(exes, path, url)
    return [
        ("V1 verifier at least 6x md5sum's throughput", med["md5sum"] >= 6 * lib, f"{med['md5sum'] / lib:.2f}x"),
        ("V1 verifier peak RSS at most 64 MiB", peak <= 64 * 1024, f"{peak / 1024:.1f} MiB"),
        ("V2 end to end at most 1.1x max(listing, hashing)", e2e <= 1.1 * bound, f"{e2e / bound:.2f}x"),
    ]


def cold(exes, path, url):
    print()
    if not drop_caches():
        print("V3: not run: this machine does not let the benchmark drop the page cache")
        return
    cmds = {
        "libvault_parts verify": [exes["verify_file"], url, SID, "v1", path, str(PART), "1000"],
        "md5sum": ["md5sum", path],
        "dd (read only, 8 MiB blocks)": ["dd", f"if={path}", "of=/dev/null", "bs=8M"],
    }
    print("| V3 (cold cache, one run each after dropping caches) | wall | throughput |")
    print("|---|---|---|")
    for c, cmd in cmds.items():
        drop_caches()
        wall = timed(cmd)[0]
        print(f"| {c} | {fmt(wall)} | {SIZE / wall / 1e6:,.0f} MB/s |")
    print("V3: when dd alone reads no faster than the verifier, the disk bounds it, not hashing")


def main():
    work = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build", "bench")))
    rounds = int(os.environ.get("ROUNDS", "5"))
    targets = run(work, rounds)
    for what, ok, value in targets:
        print(f"{'met   ' if ok else 'MISSED'} {what}: {value}")
    met = sum(ok for _, ok, _ in targets)
    print(f"targets: {met} met, {len(targets) - met} missed")
    return 0 if met == len(targets) else 1


def run(work, rounds):
    """Runs V1-V3 and prints their tables; returns [(target, met, value)]."""
    os.makedirs(work, exist_ok=True)
    exes = build(work)
    path = test_file(work)
    sim, url = start_sim(work, path)
    try:
        return scenarios(exes, path, url, rounds)
    finally:
        sim.terminate()
        sim.wait()


if __name__ == "__main__":
    sys.exit(main())
