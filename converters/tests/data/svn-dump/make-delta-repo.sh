#!/bin/sh
# Builds a small Subversion repository with the real svn CLI and dumps it
# twice: full texts (full.dump) and svndiff deltas (deltas.dump).
# Usage: make-delta-repo.sh WORK_DIR   (WORK_DIR must not exist yet)
set -eu
work=$1
mkdir "$work"
cd "$work"
svnadmin create repo
url="file://$(pwd)/repo"
svn checkout -q "$url" wc
cd wc
svn mkdir -q trunk branches tags
# r1: layout and a large text file (several delta windows) plus a binary file
i=0
while [ $i -lt 1800 ]; do
  echo "line $i of the big file: the quick brown fox jumps over the lazy dog"
  i=$((i + 1))
done > trunk/big.txt
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%c", (i * 7919 + int(i / 251)) % 256 }' > trunk/blob.bin
printf 'first line\r\nsecond line\r\n' > trunk/crlf.txt
svn add -q trunk/big.txt trunk/blob.bin trunk/crlf.txt
svn propset -q svn:mime-type application/octet-stream trunk/blob.bin
svn commit -q -m "r1: layout, big text, binary, CRLF text"
# r2: edit the big file in several places, change the binary
sed -i -e 's/^line 10 of/LINE TEN of/' -e 's/^line 3000 of/line three thousand of/' trunk/big.txt
echo "appended at the end" >> trunk/big.txt
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%c", (i * 7919 + int(i / 251) + (i > 9000 ? 1 : 0)) % 256 }' > trunk/blob.bin
svn commit -q -m "r2: edit big text and binary"
# r3: branch by copy
svn copy -q "$url/trunk" "$url/branches/feature" -m "r3: branch"
svn update -q
# r4: modify the copy and trunk in the same revision
sed -i '1i a new first line on the branch' branches/feature/big.txt
echo "trunk tail" >> trunk/big.txt
svn commit -q -m "r4: edit branch and trunk"
# r5: copy a file with modification, delete another, replace one
svn copy -q trunk/crlf.txt trunk/crlf-copy.txt
printf 'changed\r\n' >> trunk/crlf-copy.txt
svn rm -q branches/feature/blob.bin
svn commit -q -m "r5: copy-with-edit and delete"
svn rm -q trunk/crlf.txt
svn commit -q -m "r6: remove crlf.txt"
svn update -q
printf 'replaced content\n' > trunk/crlf.txt
svn add -q trunk/crlf.txt
svn commit -q -m "r7: re-add crlf.txt"
# r8: empty the big file on the branch, tag trunk
: > branches/feature/big.txt
svn commit -q -m "r8: empty file"
svn copy -q "$url/trunk" "$url/tags/v1" -m "r9: tag"
cd ..
svnadmin dump -q repo > full.dump
svnadmin dump -q --deltas repo > deltas.dump
svnrdump dump -q "file://$(pwd)/repo" > rdump.dump
