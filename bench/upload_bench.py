"""The U scenarios of make bench: vault_parts_upload_* (through bench/upload_file.c, commit mode
VAULT_PARTS_COMMIT) against the curl CLI sending the same parts, pre-cut into files, in one
invocation (one connection, `Expect:` off, no hashing), to the same vault-sim (release), which
checks the order and hashes every part it stores. curl's session is created before its clock
starts and it makes no commit; the library's time includes its create (or listing) and commit.

U1  a new upload of 1 GiB in 8 MiB parts (128) on loopback; target <= 1.1x curl, peak RSS <=
    2 x part size + 32 MiB.
U2  the same with 50 ms of latency each way, 20 parts of 8 MiB; target <= 1.1x curl. The
    latency comes from tc netem on the loopback of a network namespace made for it (client and
    server inside); a kernel without netem (this machine's: CONFIG_NET_SCH_NETEM unset) gets
    bench/delay_line.py instead, a relay that delivers every byte 50 ms late each way.
U3  the resume of a 2 GiB upload in 5 MiB parts (410) with 400 already there, one round each on
    a fresh session; target <= 1.1x (verify alone + curl sending the 10 parts alone).

Run alone with `BENCH_ONLY=U make bench` (or python3 bench/upload_bench.py after make release).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_bench  # noqa: E402  (its 2 GiB file, compiler step and timer)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SID = "bench-session-id"
MIB = 1024 * 1024
UPLOAD_PATH = "/api/v25.3/services/file_staging/upload"
NETNS = "vault-parts-bench"
SIM = os.path.join(ROOT, "target", "release", "vault-sim")


def random_file(work, name, size):
    path = os.path.join(work, name)
    if not os.path.exists(path) or os.path.getsize(path) != size:
        print(f"bench: writing {size >> 20} MiB of random bytes to {path}", flush=True)
        with open("/dev/urandom", "rb") as src, open(path, "wb") as dst:
            for _ in range(size // (8 * MIB)):
                dst.write(src.read(8 * MIB))
    return path


def cut(path, part_size, first=1):
    """The parts of `path` from part `first` on as files DIR/N (the curl contender's input)."""
    d = f"{path}.{part_size}.parts"
    size = os.path.getsize(path)
    count = -(-size // part_size)
    names = [os.path.join(d, str(n)) for n in range(1, count + 1)]
    if not all(os.path.exists(p) for p in names):
        os.makedirs(d, exist_ok=True)
        with open(path, "rb") as src:
            for p in names:
                with open(p, "wb") as dst:
                    dst.write(src.read(part_size))
    return names[first - 1:], first


def start_sim(work, name, extra, netns=False):
    url_file = os.path.join(work, f"{name}.url")
    if os.path.exists(url_file):
        os.remove(url_file)
    cmd = [SIM, "--url-file", url_file, "--user", f"{SID}:alice", "--job-poll-window-ms", "100"] + extra
    if netns:
        cmd = ["ip", "netns", "exec", NETNS] + cmd
    sim = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    for _ in range(6000):  # a file-backed session is hashed before it listens
        if os.path.exists(url_file) and os.path.getsize(url_file) > 0:
            with open(url_file) as f:
                return sim, f.read().strip()
        if sim.poll() is not None:
            sys.exit(f"bench: vault-sim for {name} exited")
        time.sleep(0.1)
    sim.kill()
    sys.exit(f"bench: vault-sim for {name} did not start")


def in_ns(cmd, netns):
    return (["ip", "netns", "exec", NETNS] + cmd) if netns else cmd


def vault(url, method, path, form=None, netns=False):
    """One request to vault-sim, outside any clock: curl inside the namespace, else urllib."""
    if netns:
        cmd = ["curl", "-s", "-X", method, "-H", f"Authorization: {SID}", url + path]
        for k, v in (form or {}).items():
            cmd += ["--data-urlencode", f"{k}={v}"]
        out = subprocess.run(in_ns(cmd, True), capture_output=True, text=True, check=True).stdout
    else:
        data = urllib.parse.urlencode(form).encode() if form else None
        req = urllib.request.Request(url + path, data=data, method=method, headers={"Authorization": SID})
        with urllib.request.urlopen(req) as r:
            out = r.read().decode()
    body = json.loads(out)
    if body.get("responseStatus") != "SUCCESS":
        sys.exit(f"bench: {method} {path}: {out[:200]}")
    return body.get("data")


def curl_config(work, url, upload_id, parts, first):
    """One curl invocation PUTting `parts` (numbered from `first`) in order on one connection."""
    path = os.path.join(work, f"curl-put-{len(parts)}.cfg")
    with open(path, "w") as f:
        for i, part in enumerate(parts):
            if i:
                f.write("next\n")
            f.write(f'url = "{url}{UPLOAD_PATH}/{upload_id}"\nupload-file = "{part}"\n'
                    f'header = "Authorization: {SID}"\nheader = "Content-Type: application/octet-stream"\n'
                    f'header = "X-VaultAPI-FilePartNumber: {first + i}"\nheader = "Expect:"\n'
                    'output = "/dev/null"\nsilent\nshow-error\nfail\n')
    return path


def curl_put(work, url, upload_id, parts, first, want_parts, netns=False):
    cfg = curl_config(work, url, upload_id, parts, first)
    wall = verify_bench.timed(in_ns(["curl", "-K", cfg], netns))[0]
    got = vault(url, "GET", f"{UPLOAD_PATH}/{upload_id}", netns=netns)["uploaded_parts"]
    if got != want_parts:
        sys.exit(f"bench: curl left {got} parts on session {upload_id}, not {want_parts}")
    return wall


def lib_upload(exe, url, path, part, how, target, want, netns=False):
    wall, _, out = verify_bench.timed(in_ns([exe, url, SID, path, str(part), how, target], netns))
    if want not in out or "committed 1 " not in out:
        sys.exit(f"bench: upload_file did not report {want!r} and a commit: {out}")
    return wall, int(re.search(r"maxrss_kib (\d+)", out).group(1))


def new_upload_round(work, exe, url, path, part, netns=False):
    """(library seconds, library peak RSS KiB, curl seconds) of one new upload each."""
    size = os.path.getsize(path)
    count = -(-size // part)
    lib, rss = lib_upload(exe, url, path, part, "new", "/u/lib.bin", f"parts {count} kept 0 sent {count} ", netns)
    parts, first = cut(path, part)
    created = vault(url, "POST", UPLOAD_PATH, {"path": "/u/curl.bin", "size": size, "overwrite": "true"}, netns)
    curl = curl_put(work, url, created["id"], parts, first, count, netns)
    vault(url, "DELETE", f"{UPLOAD_PATH}/{created['id']}", netns=netns)
    return lib, rss, curl


def u1(work, exe, rounds):
    path = random_file(work, "u1.bin", 1024 * MIB)
    sim, url = start_sim(work, "u1", [])
    try:
        runs = [new_upload_round(work, exe, url, path, 8 * MIB) for _ in range(rounds)]
    finally:
        sim.terminate()
        sim.wait()
    return runs


def netns_up():
    """A namespace whose loopback delays every packet by 50 ms (so 50 ms each way)."""
    subprocess.run(["ip", "netns", "del", NETNS], stderr=subprocess.DEVNULL)
    for cmd in (["ip", "netns", "add", NETNS], ["ip", "link", "set", "lo", "up"],
                ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "50ms", "limit", "100000"]):
        r = subprocess.run(cmd if cmd[1] == "netns" else in_ns(cmd, True), capture_output=True, text=True)
        if r.returncode != 0:
            return f"{' '.join(cmd)}: {r.stderr.strip()}"
    return None


def start_delay_line(work, url):
    """bench/delay_line.py in front of the vault-sim at `url`: (process, its URL)."""
    port_file = os.path.join(work, "delay.port")
    if os.path.exists(port_file):
        os.remove(port_file)
    target = url.rsplit(":", 1)[1]
    line = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "delay_line.py"), target, "50", port_file])
    for _ in range(100):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return line, f"http://127.0.0.1:{f.read().strip()}"
        time.sleep(0.05)
    line.kill()
    sys.exit("bench: the delay line did not start")


def u2(work, exe, rounds):
    """Runs with netem in a namespace when the kernel has it, else through the delay line;
    returns (runs, how the latency was made)."""
    path = random_file(work, "u2.bin", 160 * MIB)
    why = netns_up()
    netns = why is None
    sim, url = start_sim(work, "u2", [], netns=netns)
    line = None
    if not netns:
        subprocess.run(["ip", "netns", "del", NETNS], stderr=subprocess.DEVNULL)
        line, url = start_delay_line(work, url)
    try:
        runs = [new_upload_round(work, exe, url, path, 8 * MIB, netns=netns) for _ in range(rounds)]
    finally:
        for p in (line, sim):
            if p is not None:
                p.terminate()
                p.wait()
        if netns:
            subprocess.run(["ip", "netns", "del", NETNS])
    how = "tc netem on a namespace's loopback" if netns else f"bench/delay_line.py (no netem: {why})"
    return runs, how


def u3(work, exes, rounds):
    """(library resume, verify alone, curl 10 parts alone) per round, each on fresh sessions."""
    path = verify_bench.test_file(work)
    part = 5 * MIB
    sessions = []
    for r in range(rounds):
        sessions += ["--upload-file", f"u3lib{r}:alice:{path}:{part}:400",
                     "--upload-file", f"u3curl{r}:alice:{path}:{part}:400"]
    print(f"bench: U3: vault-sim hashes {2 * rounds} sessions of 400 parts before it listens", flush=True)
    sim, url = start_sim(work, "u3", sessions)
    parts, first = cut(path, part, first=401)
    runs = []
    try:
        for r in range(rounds):
            verify = verify_bench.timed([exes["verify_file"], url, SID, f"u3lib{r}", path, str(part), "1000"])
            if "ok 400 missing 10 " not in verify[2]:
                sys.exit(f"bench: U3 verify did not find 400 OK and 10 missing parts: {verify[2]}")
            curl = curl_put(work, url, f"u3curl{r}", parts, first, 410)
            lib, _ = lib_upload(exes["upload_file"], url, path, part, "resume", f"u3lib{r}",
                                "parts 410 kept 400 sent 10 ", False)
            runs.append((lib, verify[0], curl))
    finally:
        sim.terminate()
        sim.wait()
    return runs


def fmt(s):
    return f"{s * 1000:.0f} ms"


def row(label, ts):
    return f"| {label} | {fmt(statistics.median(ts))} | {fmt(min(ts))} - {fmt(max(ts))} |"


def report(name, runs, size):
    lib = [r[0] for r in runs]
    curl = [r[2] for r in runs]
    print()
    print(f"| {name} | median wall | min - max |")
    print("|---|---|---|")
    print(row("libvault_parts upload (create, send, commit)", lib))
    print(row("curl, the same parts (pre-cut, one invocation)", curl))
    ratio = statistics.median(lib) / statistics.median(curl)
    print(f"{name}: library {size / statistics.median(lib) / 1e6:,.0f} MB/s, curl "
          f"{size / statistics.median(curl) / 1e6:,.0f} MB/s; library {ratio:.2f}x curl")
    return ratio


def scenarios(work, exes, rounds):
    targets = []
    runs = u1(work, exes["upload_file"], rounds)
    ratio = report("U1 (1 GiB, 128 parts of 8 MiB, loopback)", runs, 1024 * MIB)
    peak = statistics.median(r[1] for r in runs)
    print(f"U1: library peak RSS {peak / 1024:.1f} MiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    targets += [("U1 new upload at most 1.1x curl", ratio <= 1.1, f"{ratio:.2f}x"),
                ("U1 peak RSS at most 2 x 8 MiB + 32 MiB", peak <= 48 * 1024, f"{peak / 1024:.1f} MiB")]

    runs, how = u2(work, exes["upload_file"], rounds)
    ratio = report("U2 (160 MiB, 20 parts of 8 MiB, 50 ms each way)", runs, 160 * MIB)
    print(f"U2: latency added by {how}")
    targets.append(("U2 new upload at +50 ms each way at most 1.1x curl", ratio <= 1.1, f"{ratio:.2f}x"))

    runs = u3(work, exes, rounds)
    lib, verify, curl = ([r[i] for r in runs] for i in range(3))
    alone = statistics.median(v + c for v, c in zip(verify, curl))
    print()
    print("| U3 (2 GiB, 410 parts of 5 MiB, 400 uploaded) | median wall | min - max |")
    print("|---|---|---|")
    print(row("libvault_parts resume (list, hash, send 10, commit)", lib))
    print(row("verify alone (vault_parts_verify)", verify))
    print(row("curl sending the 10 parts alone", curl))
    ratio = statistics.median(lib) / alone
    print(f"U3: resume {ratio:.2f}x (verify alone + sending 10 parts alone)")
    targets.append(("U3 resume at most 1.1x (verify alone + 10 parts alone)", ratio <= 1.1, f"{ratio:.2f}x"))
    return targets


def run(work, rounds):
    """Runs U1-U3 and prints their tables; returns [(target, met, value)]."""
    os.makedirs(work, exist_ok=True)
    exes = verify_bench.build(work, ["verify_file", "upload_file"])
    return scenarios(work, exes, rounds)


def main():
    work = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build", "bench")))
    targets = run(work, int(os.environ.get("ROUNDS", "5")))
    for what, ok, value in targets:
        print(f"{'met   ' if ok else 'MISSED'} {what}: {value}")
    return 0 if all(ok for _, ok, _ in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
