#!/usr/bin/env bash
# Install every build, test, demo and benchmark dependency from Debian 12 packages; a no-op when all are present.
set -euo pipefail
PKGS="build-essential pkg-config libhts-dev zlib1g-dev libopenblas-dev samtools bwa bowtie2 minimap2
art-nextgen-simulation-tools seqan-apps gnuplot-nox time python3 git
snakemake clang libclang-rt-14-dev bcftools"
missing=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing$missing" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
