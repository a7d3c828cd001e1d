"""The vault_parts package contender of the P scenarios: what a scripting user writes with the
package, in the bench venv (bench/py_venv.sh). Prints one line of counts, the time spent after
the imports (elapsed_ms: the call alone, interpreter start-up and `import vault_parts`
excluded) and the process's peak RSS.

usage: py_pkg.py list URL SESSION_ID UPLOAD_SESSION_ID LIMIT
       py_pkg.py verify URL SESSION_ID UPLOAD_SESSION_ID PATH PART_SIZE LIMIT
       py_pkg.py upload URL SESSION_ID PATH PART_SIZE STAGING_PATH
"""
import resource
import sys
import time

import vault_parts


def main(argv):
    what = argv[1]
    t = time.perf_counter()
    if what == "list":
        url, sid, upload_id, limit = argv[2:6]
        parts = 0
        for _ in vault_parts.list_parts(url, sid, upload_id, limit=int(limit)):
            parts += 1
        line = f"parts {parts}"
    elif what == "verify":
        url, sid, upload_id, path, part, limit = argv[2:8]
        ok = parts = 0
        with vault_parts.verify(url, sid, upload_id, path, part_size=int(part), limit=int(limit)) as v:
            for verdict in v:
                parts += 1
                ok += verdict.status == vault_parts.Status.OK
        line = f"parts {parts} ok {ok}"
    elif what == "upload":
        # As bench/upload_file.c: a new session, overwrite, commit made, its job not waited for.
        url, sid, path, part, staging = argv[2:7]
        with vault_parts.upload(url, sid, path, staging_path=staging, overwrite=True, part_size=int(part),
                                commit="commit") as u:
            for _ in u:
                pass
            s = u.summary
        line = f"parts {s.parts} kept {s.kept} sent {s.sent} committed {int(s.committed)}"
    else:
        sys.exit(f"py_pkg: unknown {what!r}")
    elapsed = time.perf_counter() - t
    print(f"{line} elapsed_ms {elapsed * 1000:.1f} maxrss_kib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    main(sys.argv)
