#!/usr/bin/env bash
# Fetch the reference genomes used by the demo, tests and benchmarks from Debian packages
# (apt-get download + dpkg-deb -x; nothing is installed). Cached under data/ (git-ignored).
# Usage: scripts/fetch-genomes.sh [lambda] [ecoli] [human]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${ESALIGN_DATA:-data}
mkdir -p "$DATA/genomes" "$DATA/debs"
want=("$@"); [ ${#want[@]} -gt 0 ] || want=(lambda ecoli human)

fetch() { # name package path-inside-package
  local name=$1 pkg=$2 path=$3 out="$DATA/genomes/$1.fa.gz"
  if [ -s "$out" ]; then return 0; fi
  local deb
  deb=$(ls "$DATA"/debs/${pkg}_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    (cd "$DATA/debs" && apt-get download "$pkg" >/dev/null 2>&1) || {
      apt-get update -qq >/dev/null 2>&1 || true
      (cd "$DATA/debs" && apt-get download "$pkg") || { echo "fetch-genomes: cannot download Debian package $pkg" >&2; exit 1; }
    }
    deb=$(ls "$DATA"/debs/${pkg}_*.deb | head -n1)
  fi
  local tmp; tmp=$(mktemp -d)
  dpkg-deb -x "$deb" "$tmp"
  [ -s "$tmp/$path" ] || { echo "fetch-genomes: $path not found in $deb" >&2; rm -rf "$tmp"; exit 1; }
  cp "$tmp/$path" "$out.tmp" && mv "$out.tmp" "$out"
  rm -rf "$tmp"
  echo "fetch-genomes: $name -> $out" >&2
}
for g in "${want[@]}"; do
  case $g in
    lambda) fetch lambda bowtie2-examples usr/share/doc/bowtie2/examples/reference/lambda_virus.fa.gz ;;
    ecoli)  fetch ecoli ragout-examples usr/share/doc/ragout/examples/E.Coli/references/MG1655-K12.fasta.gz ;;
    human)  fetch human smalt-examples usr/share/doc/smalt/test/data/hs37chrXtrunc.fa.gz ;;
    *) echo "fetch-genomes: unknown genome '$g' (lambda, ecoli, human)" >&2; exit 1 ;;
  esac
done
