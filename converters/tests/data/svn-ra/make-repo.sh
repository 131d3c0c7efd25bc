#!/bin/sh
# Builds the Subversion repository the RA reader tests read, with the real svn CLI.
# Usage: make-repo.sh WORK_DIR   (creates WORK_DIR/repo and WORK_DIR/wc)
set -eu
work=$1
mkdir -p "$work"
cd "$work"
svnadmin create repo
url="file://$(pwd)/repo"
export SVN_EDITOR=false
export LC_ALL=C.UTF-8
svn checkout -q --config-dir "$work/config" "$url" wc
cd wc
ci() { svn commit -q --config-dir "$work/config" --username "$1" -m "$2"; }
up() { svn update -q --config-dir "$work/config"; }
# r1: layout, text files, an executable script, a binary file
svn mkdir -q trunk branches tags
printf 'hello\nworld\n' > trunk/hello.txt
mkdir trunk/src
printf '#!/bin/sh\necho run\n' > trunk/src/run.sh
printf 'fn main() {}\n' > trunk/src/main.rs
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%c", (i * 7919 + int(i / 251)) % 256 }' > trunk/blob.bin
svn add -q trunk/hello.txt trunk/src trunk/blob.bin
svn propset -q svn:executable '*' trunk/src/run.sh
svn propset -q svn:mime-type application/octet-stream trunk/blob.bin
ci alice "r1: layout, texts, script, binary"
# r2: a text edit and svn:ignore on a directory
printf 'hello\nbrave new world\n' > trunk/hello.txt
svn propset -q svn:ignore 'target
*.o' trunk
ci bob "r2: edit hello, ignore target"
# r3: branch by a server-side copy
svn copy -q --config-dir "$work/config" --username alice -m "r3: branch" "$url/trunk" "$url/branches/feature"
up
# r4: file copy with modification, a delete, a binary change
svn copy -q trunk/hello.txt trunk/hello-copy.txt
echo "copied and changed" >> trunk/hello-copy.txt
svn rm -q trunk/src/main.rs
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%c", (i * 7919 + int(i / 251) + (i > 9000 ? 1 : 0)) % 256 }' > trunk/blob.bin
printf 'spaces and accents\n' > "trunk/with space é.txt"
svn add -q "trunk/with space é.txt"
ci carol "r4: copy with edit, delete, binary change, a name with a space and an accent"
# r5: replace a file by a copy of another path
svn rm -q trunk/hello.txt
svn copy -q branches/feature/src/main.rs trunk/hello.txt
ci alice "r5: replace hello.txt by a copy of main.rs"
up
# r6: replace a directory by a copy, drop a property, add a large file
svn rm -q branches/feature/src
svn copy -q trunk/src branches/feature/src
svn propdel -q svn:executable trunk/src/run.sh
svn copy -q "trunk/with space é.txt" "trunk/copy of é%20.txt"
seq 1 700000 > trunk/big.txt
svn add -q trunk/big.txt
ci bob "r6: replace a directory, drop svn:executable, big file"
up
# r7: edit the large file, tag by a working-copy copy with an edit and a delete inside
sed -i 's/^5000$/five thousand/' trunk/big.txt
echo "the end" >> trunk/big.txt
svn copy -q trunk tags/v1
echo tagged >> tags/v1/hello-copy.txt
svn rm -q tags/v1/src/run.sh
ci alice "r7: big edit, tag with changes"
up
# r8: a property on the repository root
svn propset -q svn:ignore '*.tmp' .
ci bob "r8: root property"
