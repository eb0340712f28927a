#!/usr/bin/env bash
# Prints the newest GLIBC symbol version an aarch64 ELF file needs (objdump -T), e.g. "2.28";
# with a second argument, exits 1 (saying why) when that is newer than it.
#   scripts/glibc-newest.sh target/aarch64-unknown-linux-gnu/release/headcount 2.28
set -euo pipefail
newest=$(aarch64-linux-gnu-objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
echo "${newest:-none}"
if [ $# -ge 2 ] && [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$2" | sort -V | tail -1)" != "$2" ]; then
  echo "$1 needs GLIBC_$newest, newer than $2" >&2
  exit 1
fi
