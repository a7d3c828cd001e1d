"""make bench: libvault_parts against the transport limit (wrk) and what users write instead
(curl, Python requests, curl + jq), on the same pages served by nginx from pre-generated files.

Prints a table (median and min-max of ROUNDS runs, contenders alternating, ratios to
libvault_parts) and a summary line that asserts the targets; exits 1 when one is missed.
Then the V scenarios (bench/verify_bench.py: verifying a 2 GiB file against its parts).
Then S4 (20 listings of a one-page session over HTTPS against vault-sim: one shared client
against 20 separate handles).
Then the U scenarios (bench/upload_bench.py: uploading against curl sending the same parts).
Then the P scenarios (bench/py_package_bench.py: the Python package against requests, hashlib
and the C library).
Environment: ROUNDS (default 5), BENCH_DIR (default build/bench), BENCH_ONLY=V (V scenarios
only), BENCH_ONLY=S4 (S4 only), BENCH_ONLY=U (U scenarios only) or BENCH_ONLY=P (P scenarios
only; P_ONLY=13 runs P1 and P3 of them).
"""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import py_package_bench  # noqa: E402  (the P scenarios: the Python package)
import upload_bench  # noqa: E402  (the U scenarios: vault_parts_upload)
import verify_bench  # noqa: E402  (the V scenarios: vault_parts_verify)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build", "bench")))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
SID = "bench-session-id"
VERSION_PATH = "/api/v25.3/services/file_staging/upload"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def md5_for(name, n):
    # Any 32 hex digits will do for a benchmark; distinct per part.
    return f"{(hash((name, n)) & (2**128 - 1)):032x}"


def generate(name, parts, limit, port):
    """Writes page files www/NAME/K.json (K = page index) with absolute next_page links."""
    d = os.path.join(WORK, "www", name)
    os.makedirs(d, exist_ok=True)
    pages = max(1, -(-parts // limit))
    for k in range(pages):
        first, last = k * limit + 1, min(parts, (k + 1) * limit)
        data = [{"size": 5242880, "part_number": n, "part_content_md5": md5_for(name, n)} for n in range(first, last + 1)]
        details = {}
        if k + 1 < pages:
            details["next_page"] = f"http://127.0.0.1:{port}{VERSION_PATH}/{name}/parts?cursor={k + 1}&limit={limit}"
        body = {"responseStatus": "SUCCESS", "responseDetails": details, "data": data}
        with open(os.path.join(d, f"{k}.json"), "w") as f:
            json.dump(body, f, separators=(",", ":"))
    return pages


def page_urls(name, pages, limit, port):
    base = f"http://127.0.0.1:{port}{VERSION_PATH}/{name}/parts"
    return [f"{base}?limit={limit}"] + [f"{base}?cursor={k}&limit={limit}" for k in range(1, pages)]


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    tcp_nodelay on;
    sendfile on;
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
    map $arg_cursor $page {{
        "~^(?<k>[0-9]+)$" $k;
        default 0;
    }}
    server {{
        listen 127.0.0.1:{port};
        root {work}/www;
        default_type application/json;
        location ~ ^/api/v25\\.3/services/file_staging/upload/(\\w+)/parts$ {{
            set $name $1;
            try_files /$name/$page.json =404;
        }}
    }}
}}
"""


def start_nginx(port):
    conf = os.path.join(WORK, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=WORK, port=port))
    proc = subprocess.Popen(["nginx", "-p", WORK, "-c", conf, "-e", os.path.join(WORK, "nginx-error.log")])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("bench: nginx did not start; see " + os.path.join(WORK, "nginx-error.log"))


def timed(cmd, expect_parts):
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        sys.exit(f"bench: {cmd[0]} failed: {out.stderr.strip()}")
    m = re.search(r"parts (\d+)", out.stdout)
    got = int(m.group(1)) if m else None
    if expect_parts is not None and got is not None and got != expect_parts:
        sys.exit(f"bench: {cmd[0]} listed {got} parts, expected {expect_parts}")
    return elapsed, out.stdout


def wrk_median(url, pages):
    """The transport limit: sequential keep-alive GETs on one connection, median latency."""
    out = subprocess.run(["wrk", "-t1", "-c1", "-d3s", "--latency", "-H", f"Authorization: {SID}", url],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    return float(m.group(1)) * unit * pages


def curl_config(urls):
    path = os.path.join(WORK, f"curl-{len(urls)}.cfg")
    with open(path, "w") as f:
        f.write(f'header = "Authorization: {SID}"\nheader = "Accept: application/json"\nsilent\n')
        for u in urls:
            f.write(f'url = "{u}"\noutput = "/dev/null"\n')
    return path


def fmt(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def main():
    if os.environ.get("BENCH_ONLY") == "V":
        return verify_bench.main()
    if os.environ.get("BENCH_ONLY") == "U":
        return upload_bench.main()
    if os.environ.get("BENCH_ONLY") == "P":
        return py_package_bench.main()
    if os.environ.get("BENCH_ONLY") == "S4":
        os.makedirs(WORK, exist_ok=True)
        targets = s4()
        for what, ok, value in targets:
            print(f"{'met   ' if ok else 'MISSED'} {what}: {value}")
        return 0 if all(ok for _, ok, _ in targets) else 1
    shutil.rmtree(os.path.join(WORK, "www"), ignore_errors=True)
    os.makedirs(WORK, exist_ok=True)
    port = free_port()
    lister = os.path.join(ROOT, "build", "list_count")
    scenarios = [
        # name, parts, limit, contenders
        ("S1", 9616, 1000, ["libvault_parts", "curl", "python-requests", "curl+jq"]),
        ("S2", 10000, 1, ["libvault_parts", "curl", "python-requests"]),
        ("S3", 1000000, 1000, ["libvault_parts", "curl"]),
        ("S3small", 1000, 1000, ["libvault_parts"]),
    ]
    print(f"bench: generating pages into {WORK}/www", flush=True)
    pages = {name: generate(name, parts, limit, port) for name, parts, limit, _ in scenarios}
    nginx = start_nginx(port)
    results = {}
    rss = {}
    try:
        for name, parts, limit, contenders in scenarios:
            urls = page_urls(name, pages[name], limit, port)
            cmds = {
                "libvault_parts": [lister, f"http://127.0.0.1:{port}", SID, name, str(limit)],
                "curl": ["curl", "-K", curl_config(urls)],
                "python-requests": [sys.executable, os.path.join(ROOT, "bench", "py_requests.py"), urls[0], SID],
                "curl+jq": ["sh", os.path.join(ROOT, "bench", "curl_jq.sh"), urls[0], SID],
            }
            times = {c: [] for c in contenders}
            for r in range(ROUNDS):
                order = contenders if r % 2 == 0 else list(reversed(contenders))
                for c in order:
                    elapsed, out = timed(cmds[c], parts if c != "curl" else None)
                    times[c].append(elapsed)
                    m = re.search(r"maxrss_kib (\d+)", out)
                    if m:
                        rss.setdefault(name, []).append(int(m.group(1)))
            if name != "S3small":
                limit_runs = [wrk_median(urls[min(1, len(urls) - 1)], pages[name]) for _ in range(3)]
                times["wrk limit"] = limit_runs
            results[name] = (parts, pages[name], times)
            print(f"bench: {name} done", flush=True)
    finally:
        nginx.terminate()
        nginx.wait()

    print()
    print(f"| scenario | contender | median | min - max | vs libvault_parts |")
    print(f"|---|---|---|---|---|")
    med = {}
    for name, (parts, npages, times) in results.items():
        lib = statistics.median(times["libvault_parts"])
        for c, ts in times.items():
            m = statistics.median(ts)
            med[(name, c)] = m
            label = f"{name} ({parts} parts, {npages} pages)"
            print(f"| {label} | {c} | {fmt(m)} | {fmt(min(ts))} - {fmt(max(ts))} | {m / lib:.2f}x |")
    print()
    s3_rate = 1_000_000 / med[("S3", "libvault_parts")]
    rss_delta = statistics.median(rss["S3"]) - statistics.median(rss["S3small"])
    print(f"S3: libvault_parts lists {s3_rate:,.0f} parts/s; peak RSS {statistics.median(rss['S3'])} KiB for "
          f"1,000,000 parts vs {statistics.median(rss['S3small'])} KiB for 1,000 (+{rss_delta:.0f} KiB)")

    crit = criterion_throughput()
    targets = [
        ("S1 libvault_parts no slower than curl (1.0x)", med[("S1", "libvault_parts")] <= med[("S1", "curl")],
         f"{med[('S1', 'libvault_parts')] / med[('S1', 'curl')]:.2f}x curl"),
        ("S2 within 1.5x of the wrk limit", med[("S2", "libvault_parts")] <= 1.5 * med[("S2", "wrk limit")],
         f"{med[('S2', 'libvault_parts')] / med[('S2', 'wrk limit')]:.2f}x"),
        ("S1 Python requests at least 10x slower", med[("S1", "python-requests")] >= 10 * med[("S1", "libvault_parts")],
         f"{med[('S1', 'python-requests')] / med[('S1', 'libvault_parts')]:.1f}x"),
        ("S2 Python requests at least 10x slower", med[("S2", "python-requests")] >= 10 * med[("S2", "libvault_parts")],
         f"{med[('S2', 'python-requests')] / med[('S2', 'libvault_parts')]:.1f}x"),
        ("S3 at least 2,000,000 parts/s", s3_rate >= 2_000_000, f"{s3_rate:,.0f} parts/s"),
        ("S3 peak RSS at most 512 KiB above 1,000 parts", rss_delta <= 512, f"+{rss_delta:.0f} KiB"),
        ("criterion: a 1,000-part page parses at 300 MB/s or more", crit is not None and crit >= 300,
         f"{crit:.0f} MB/s" if crit is not None else "not measured"),
    ]
    targets += verify_bench.run(WORK, ROUNDS)
    targets += s4()
    targets += upload_bench.run(WORK, ROUNDS)
    targets += py_package_bench.run(WORK, ROUNDS)
    for what, ok, value in targets:
        print(f"{'met   ' if ok else 'MISSED'} {what}: {value}")
    met = sum(ok for _, ok, _ in targets)
    print(f"targets: {met} met, {len(targets) - met} missed")
    return 0 if met == len(targets) else 1


S4_LISTINGS = 20


def s4():
    """S4: 20 listings of a one-page session over HTTPS against vault-sim (its run-time CA), one
    after another in one process: on one vault_parts_client (one connection, one handshake)
    against 20 separate handles (a connection and a full TLS handshake each)."""
    sim_bin = os.path.join(ROOT, "target", "release", "vault-sim")
    ca, url_file = os.path.join(WORK, "s4-ca.pem"), os.path.join(WORK, "s4-url")
    for f in (ca, url_file):
        if os.path.exists(f):
            os.remove(f)
    sim = subprocess.Popen([sim_bin, "--user", f"{SID}:alice", "--upload", "s4:alice:3", "--tls-ca-out", ca,
                            "--url-file", url_file], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(url_file) and open(url_file).read().strip():
                break
            time.sleep(0.05)
        url = open(url_file).read().strip()
        lister = os.path.join(ROOT, "build", "many_listings")
        times = {"one client": [], "separate handles": []}
        for r in range(max(ROUNDS, 5)):
            order = ["client", "separate"] if r % 2 == 0 else ["separate", "client"]
            for mode in order:
                out = subprocess.run([lister, url, SID, "s4", ca, str(S4_LISTINGS), mode], capture_output=True,
                                     text=True)
                if out.returncode != 0:
                    sys.exit(f"bench: many_listings {mode} failed: {out.stderr.strip()}")
                m = re.search(r"parts (\d+) elapsed_ms ([\d.]+)", out.stdout)
                if int(m.group(1)) != 3 * S4_LISTINGS:
                    sys.exit(f"bench: many_listings {mode} listed {m.group(1)} parts")
                times["one client" if mode == "client" else "separate handles"].append(float(m.group(2)) / 1000)
    finally:
        sim.terminate()
        sim.wait()
    client, separate = statistics.median(times["one client"]), statistics.median(times["separate handles"])
    print()
    print("| scenario | contender | median | min - max |")
    print("|---|---|---|---|")
    for c, ts in times.items():
        print(f"| S4 ({S4_LISTINGS} one-page listings, HTTPS) | {c} | {fmt(statistics.median(ts))} | "
              f"{fmt(min(ts))} - {fmt(max(ts))} |")
    ratio = separate / client
    print(f"S4: one client is {ratio:.2f}x faster than {S4_LISTINGS} separate handles")
    return [("S4 one client at least 3x faster than 20 separate handles", ratio >= 3, f"{ratio:.2f}x")]


def criterion_throughput():
    """Runs the criterion micro-benchmark; returns MB/s (10^6 bytes) parsing one 1,000-part page."""
    out = subprocess.run(["cargo", "bench", "--manifest-path", os.path.join(ROOT, "bench", "criterion", "Cargo.toml"),
                          "--", "--noplot"], capture_output=True, text=True)
    print(out.stdout[-1500:])
    m = re.search(r"thrpt:\s+\[\S+ \S+ ([\d.]+) (GB|MB|GiB|MiB|KiB)/s", out.stdout)
    if not m:
        print(out.stderr[-3000:])
        return None
    scale = {"GB": 1000.0, "MB": 1.0, "GiB": 1073.741824, "MiB": 1.048576, "KiB": 0.001024}[m.group(2)]
    return float(m.group(1)) * scale


if __name__ == "__main__":
    sys.exit(main())
