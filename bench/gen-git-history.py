#!/usr/bin/env python3
"""Writes a `git fast-import` stream of N commits to stdout: 20 authors, 200 files,
a feature branch merged back every 500 commits, a tag every 1000. Deterministic."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
out = sys.stdout.buffer
authors = [(f"Dev {i:02d}", f"dev{i:02d}@example.com") for i in range(20)]
mark = 0
main_mark = None
branch_mark = None


def commit(ref, parent, merge, i):
    global mark
    mark += 1
    name, email = authors[i % len(authors)]
    when = 1_500_000_000 + i * 60
    msg = f"Commit {i}\n".encode()
    path = f"src/dir{i % 20}/file{i % 200}.txt"
    data = f"content of commit {i}\n".encode() * 3
    out.write(f"commit {ref}\nmark :{mark}\n".encode())
    out.write(f"author {name} <{email}> {when} +0000\ncommitter {name} <{email}> {when} +0000\n".encode())
    out.write(f"data {len(msg)}\n".encode() + msg)
    if parent:
        out.write(f"from :{parent}\n".encode())
    if merge:
        out.write(f"merge :{merge}\n".encode())
    out.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    return mark


for i in range(n):
    if i % 500 == 250 and main_mark:
        branch_mark = commit("refs/heads/feature", main_mark, None, i)
    elif i % 500 == 499 and branch_mark:
        main_mark = commit("refs/heads/main", main_mark, branch_mark, i)
        branch_mark = None
    elif branch_mark and i % 3 == 0:
        branch_mark = commit("refs/heads/feature", branch_mark, None, i)
    else:
        main_mark = commit("refs/heads/main", main_mark, None, i)
    if i % 1000 == 999:
        out.write(f"tag v{i // 1000}\nfrom :{main_mark}\ntagger Release <rel@example.com> {1_500_000_000 + i * 60} +0000\ndata 4\nrel\n".encode())
if branch_mark:
    out.write(f"reset refs/heads/feature\nfrom :{branch_mark}\n".encode())
