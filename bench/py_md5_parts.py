"""What a scripting user writes to check parts: read the file part by part, MD5 each with hashlib.

usage: py_md5_parts.py PATH PART_SIZE   prints "parts N"
"""
import hashlib
import sys

path, part_size = sys.argv[1], int(sys.argv[2])
parts = 0
with open(path, "rb") as f:
    while True:
        h = hashlib.md5()
        left = part_size
        while left:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        if left == part_size:
            break
        h.hexdigest()
        parts += 1
print(f"parts {parts}")
