"""What a scripting user writes to upload with requests, as Vault's API describes it: create the
session (POST .../file_staging/upload: path, size, overwrite), PUT each part in order (read from
the file, X-VaultAPI-FilePartNumber, application/octet-stream) on one requests.Session, check
each answer's responseStatus, then commit (POST .../upload/{id}). No hashing, no retries.

usage: py_requests_upload.py URL SESSION_ID PATH PART_SIZE STAGING_PATH
prints: "parts N committed 1 elapsed_ms N" (elapsed: after the imports)
"""
import os
import sys
import time

import requests

UPLOAD = "/api/v25.3/services/file_staging/upload"


def checked(response):
    body = response.json()
    if body.get("responseStatus") != "SUCCESS":
        sys.exit(f"py_requests_upload: {body}")
    return body.get("data")


def main(url, session_id, path, part_size, staging):
    t = time.perf_counter()
    size = os.path.getsize(path)
    with requests.Session() as s, open(path, "rb") as f:
        s.headers.update({"Authorization": session_id, "Accept": "application/json"})
        created = checked(s.post(url + UPLOAD, data={"path": staging, "size": size, "overwrite": "true"}, timeout=60))
        parts = 0
        while True:
            chunk = f.read(part_size)
            if not chunk:
                break
            parts += 1
            checked(s.put(f"{url}{UPLOAD}/{created['id']}", data=chunk, timeout=60,
                          headers={"Content-Type": "application/octet-stream", "X-VaultAPI-FilePartNumber": str(parts)}))
        checked(s.post(f"{url}{UPLOAD}/{created['id']}", timeout=60))
    print(f"parts {parts} committed 1 elapsed_ms {(time.perf_counter() - t) * 1000:.1f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
