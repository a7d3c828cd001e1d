"""What a scripting user writes: requests.Session, JSON parsed, next_page followed."""
import sys

import requests


def main(url, session_id):
    parts = 0
    with requests.Session() as s:
        s.headers.update({"Authorization": session_id, "Accept": "application/json"})
        while url:
            page = s.get(url, timeout=60).json()
            if page.get("responseStatus") != "SUCCESS":
                sys.exit(f"py_requests: {page}")
            parts += len(page.get("data") or [])
            url = (page.get("responseDetails") or {}).get("next_page")
    print(f"parts {parts}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
