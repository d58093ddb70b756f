#!/usr/bin/env python3
"""calibration.py — MAPQ calibration of one aligner's SAM against the truth: per MAPQ bin the reads, the wrong ones,
the observed error and the error the MAPQ claims (the mean of 10^(-MAPQ/10) over the bin), plus mapped, correct and
the fraction and error at MAPQ >= 20 and = 60. Truth from a truth SAM (mason, ART) or from `esalign simulate` read
names. A read is correct as in `esalign eval`: primary on the true contig, SAM POS or its unclipped start within
--max-dist of the true leftmost position. Python 3 standard library only.
Usage: calibration.py [--truth TRUTH.sam] [--region CONTIG:BEG-END] [--label L] ALN.sam > bins.tsv
Output: TSV, one row per bin ("bin" rows: label lo hi reads wrong pred_err) and one "sum" row.
"""
import argparse
import re
import sys

BINS = [(0, 0), (1, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 255)]
CIG = re.compile(r"(\d+)([MIDNSHP=X])")


def read_truth(path):
    t = {}
    for line in open(path):
        if line.startswith("@"):
            continue
        f = line.split("\t", 5)
        if int(f[1]) & 0x900:
            continue
        t[f[0]] = (f[2], int(f[3]) - 1)
    return t


def name_truth(name):
    p = name.split("!")
    return (p[1], int(p[2])) if len(p) == 4 else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth")
    ap.add_argument("--region")
    ap.add_argument("--label", default="-")
    ap.add_argument("--max-dist", type=int, default=20)
    ap.add_argument("sam")
    a = ap.parse_args()
    truth = read_truth(a.truth) if a.truth else None
    reg = None
    if a.region:
        c, r = a.region.rsplit(":", 1)
        b, e = r.split("-")
        reg = (c, int(b), int(e))
    n = mapped = correct = 0
    bins = [[0, 0, 0.0] for _ in BINS]
    q20 = [0, 0]
    q60 = [0, 0]
    for line in open(a.sam):
        if line.startswith("@"):
            continue
        f = line.split("\t", 11)
        flag = int(f[1])
        if flag & 0x900:
            continue
        tr = truth.get(f[0]) if truth is not None else name_truth(f[0])
        if tr is None:
            continue
        if reg and not (tr[0] == reg[0] and reg[1] <= tr[1] < reg[2]):
            continue
        n += 1
        if flag & 4:
            continue
        mapped += 1
        pos = int(f[3]) - 1
        m = CIG.match(f[5])
        clip = int(m.group(1)) if m and m.group(2) in "SH" else 0
        ok = f[2] == tr[0] and min(abs(pos - tr[1]), abs(pos - clip - tr[1])) <= a.max_dist
        correct += ok
        q = int(f[4])
        for i, (lo, hi) in enumerate(BINS):
            if lo <= q <= hi:
                bins[i][0] += 1
                bins[i][1] += not ok
                bins[i][2] += 10 ** (-min(q, 60) / 10)
        if q >= 20:
            q20[0] += 1
            q20[1] += not ok
        if q >= 60:
            q60[0] += 1
            q60[1] += not ok
    pct = lambda x, d: 100.0 * x / d if d else 0.0
    for (lo, hi), (c, w, p) in zip(BINS, bins):
        print(f"bin\t{a.label}\t{lo}\t{min(hi, 60)}\t{c}\t{w}\t{p / c if c else 0:.3e}")
    print(f"sum\t{a.label}\treads={n}\tmapped={pct(mapped, n):.2f}\tcorrect={pct(correct, n):.2f}"
          f"\tq20={pct(q20[0], n):.2f}\tq20_err={pct(q20[1], q20[0]):.4f}\tq20_wrong={q20[1]}"
          f"\tq60={pct(q60[0], n):.2f}\tq60_err={pct(q60[1], q60[0]):.4f}\tq60_wrong={q60[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
