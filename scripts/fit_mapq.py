#!/usr/bin/env python3
"""fit_mapq.py — fit the MAPQ model of src/mapq.c: a logistic regression of "primary placement wrong" on the inputs
that `esalign align --mapq-features` writes into XF:Z, from SAM files of reads simulated by `esalign simulate`
(truth in the read names: s<ID>!<CONTIG>!<POS>!<STRAND>). Reads whose runner-up ties the best (MAPQ 0 by rule) are
left out. Newton's method (IRLS) with a small ridge; Python 3 standard library only.
Usage: fit_mapq.py [--ridge R] [--thin 4] [--max-dist 20] [--coef src/mapq.c [--keep rest,strong]] SAM[=TRUTH.sam]...
(prints the C tables, then calibration per MAPQ bin; --coef keeps that file's coefficients and fits only the
recalibration tables, --keep also keeps the tables named)
"""
import argparse
import math
import re
import sys

NAMES = ["1", "lead over a runner-up /10, <= 3", "has runner-up", "div*10", "(div-3%)+ *10", "deficit*10",
         "loc_next/best", "loc_best/top", "sup_next/best", "(loc_next/best-0.8)+ *5", "log2(len/100)", "n_close",
         "(sup_best-sup_next)/read k-mers, 0..1, x10"]
CIG = re.compile(r"(\d+)([MIDNSHP=X])")


def read_truth(path):
    t = {}
    for line in open(path):
        if not line.startswith("@"):
            f = line.split("\t", 5)
            if not int(f[1]) & 0x900:
                t[f[0]] = (f[2], int(f[3]) - 1)
    return t


def read_sam(path, max_dist):
    """(x, wrong, tie, mapq) for every primary mapped record with an XF tag. path is ALN.sam (truth in the read
    names) or ALN.sam=TRUTH.sam (a mason truth SAM)."""
    path, _, tpath = path.partition("=")
    truth = read_truth(tpath) if tpath else None
    out = []
    for line in open(path):
        if line.startswith("@"):
            continue
        f = line.rstrip("\n").split("\t")
        flag = int(f[1])
        if flag & 0x904:
            continue
        xf = next((t[5:] for t in f[11:] if t.startswith("XF:Z:")), None)
        if xf is None:
            continue
        if truth is None:
            _, tctg, tpos, _ = f[0].split("!")
        elif f[0] in truth:
            tctg, tpos = truth[f[0]]
        else:
            continue
        pos = int(f[3]) - 1
        m = CIG.match(f[5])
        clip = int(m.group(1)) if m and m.group(2) in "SH" else 0
        ok = f[2] == tctg and min(abs(pos - int(tpos)), abs(pos - clip - int(tpos))) <= max_dist
        v = [float(t) for t in xf.split(",")]
        # the model inputs, then the scoring's mismatch / match and the kmer sketch flag (not model inputs)
        x = [1.0] + v[:12] + [v[12], v[13] if len(v) > 13 else 0.0]
        tie = x[1] == 0 and x[2] == 1   # the runner-up scores as well as the best
        out.append((x, 0 if ok else 1, tie, int(f[4])))
    return out


def read_coef(path):
    """The coefficients of `static const double coef[] = { ... };` in a C file, in order."""
    text = open(path).read()
    body = text[text.index("coef[] = {"):]
    body = body[:body.index("};")]
    return [float(m.group(1)) for m in re.finditer(r"^\s*(-?[0-9.e+-]+),", body, re.M)]


def read_tables(path):
    """The tables of `recal[...][ES_MAPQ_MAX + 1] = { { /* NAME */ ... }, ... };` in a C file, by name."""
    text = open(path).read()
    body = text[text.index("recal[ES_MAPQ_N_EVIDENCE]"):]
    body = body[:body.index("\n};")]
    return {m.group(1): [int(v) for v in re.findall(r"\d+", m.group(2))]
            for m in re.finditer(r"\{ /\* ([a-z-]+) \*/\n(.*?)\n\t\}", body, re.S)}


def solve(a, b):
    """Gaussian elimination with partial pivoting: a x = b."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c and m[r][c] != 0:
                k = m[r][c] / m[c][c]
                for j in range(c, n + 1):
                    m[r][j] -= k * m[c][j]
    return [m[i][n] / m[i][i] for i in range(n)]


def sigmoid(z):
    z = max(-40.0, min(40.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def loglik(rows, w, ridge):
    ll = -0.5 * ridge * sum(c * c for c in w[1:])
    for x, y, c in rows:
        z = sum(a * b for a, b in zip(w, x))
        # log sigmoid(z) or log(1 - sigmoid(z)), stable for large |z|
        ll -= c * (math.log1p(math.exp(-abs(z))) + (max(-z, 0) if y else max(z, 0)))
    return ll


def fit(rows, ridge, iters=40):
    """Newton's method with backtracking on the ridge-penalised log-likelihood (the intercept is not penalised)."""
    k = len(NAMES)   # x[k:]: not model inputs
    w = [0.0] * k
    w[0] = math.log((sum(y * c for _, y, c in rows) + 0.5) / sum(c for _, _, c in rows))
    ll = loglik(rows, w, ridge)
    for it in range(iters):
        h = [[ridge if i == j and i > 0 else 0.0 for j in range(k)] for i in range(k)]
        g = [ridge * w[i] if i > 0 else 0.0 for i in range(k)]
        for x, y, c in rows:
            p = sigmoid(sum(a * b for a, b in zip(w, x)))
            r = c * (p - y)
            v = c * p * (1 - p)
            for i in range(k):
                xi = x[i]
                if xi == 0:
                    continue
                g[i] += r * xi
                vi = v * xi
                hi = h[i]
                for j in range(i, k):
                    hi[j] += vi * x[j]
        for i in range(k):
            for j in range(i):
                h[i][j] = h[j][i]
        step = solve(h, g)
        t = 1.0
        while True:
            nw = [a - t * b for a, b in zip(w, step)]
            nll = loglik(rows, nw, ridge)
            if nll >= ll - 1e-9 or t < 1e-4:
                break
            t /= 2
        gain = nll - ll
        w, ll = nw, nll
        print(f"iter {it}: penalised log-likelihood {ll:.3f} (step x{t:g}, gain {gain:.2e})", file=sys.stderr)
        if gain < 1e-4:
            break
    return w


def raw_q(w, x):
    p = sigmoid(sum(a * b for a, b in zip(w, x)))
    return max(0, min(60, int(-10 * math.log10(max(p, 1e-300)) + 0.5)))


def strong(x):
    """es_mapq_strong of mapq.c: divergence under 3%, a score deficit under 20% (x5 < 2), and a vote lead of half the
    read's k-mers with no runner-up, or of 30% of them and a score lead of 15 matches (x1 >= 1.5) over a runner-up."""
    if x[3] >= 0.3 or x[5] >= 2:
        return False
    return x[12] >= 3 and x[1] >= 1.5 if x[2] else x[12] >= 5


EVIDENCE = ("rest", "diverged", "diverged-unique", "diverged-lenient", "diverged-lenient-unique", "strong", "sketch",
            "sketch-diverged", "sketch-strong")
SKETCH_NEXT = 0.9   # SKETCH_NEXT of mapq.c


def evidence(x):
    """es_mapq_evidence of mapq.c, an index into EVIDENCE: 5 strong (above); diverged (divergence of 3% or more): 3
    under a lenient scoring (mismatch at most twice the match, -x divergent's), else 1, each plus 1 when there is no
    runner-up placement (x2 = 0); 0 the rest. Reads of the kmer sketch (x14 = 1): 8 when strong and the next locus
    under SKETCH_NEXT of the best one's similarity (x6), else 7 when diverged, else 6."""
    if x[14]:
        return 8 if strong(x) and x[6] < SKETCH_NEXT else 7 if x[3] >= 0.3 else 6
    if strong(x):
        return 5
    if x[3] < 0.3:
        return 0
    return (3 if x[13] <= 2 else 1) + (0 if x[2] else 1)


def mapq_of(w, x, tie, recal=None):
    if tie:
        return 0
    q = raw_q(w, x)
    return recal[evidence(x)][q] if recal else q


# A block of N reads with w wrong is given -10 log10(max(w, 1) / N) (no wrong read in N supports an error of about
# 1/N), and 60, the cap, when that error is at most 1 in TOP_READS (issue 13's bound for MAPQ 60: no wrong read in
# 50,000).
TOP_READS = 50000


def isotonic(train, w, title=""):
    """Pool-adjacent-violators on the logistic model's MAPQ (0..60) of the training reads: the error rate must not
    rise with it. Returns recal[raw] = MAPQ of the block's error (above), made non-decreasing in raw."""
    n = [0.0] * 61
    e = [0.0] * 61
    for x, y, c in train:
        q = raw_q(w, x)
        n[q] += c
        e[q] += c * y
    blocks = []  # [reads, wrong, first q, last q]
    for q in range(61):
        if n[q] == 0:
            continue
        blocks.append([n[q], e[q], q, q])
        while len(blocks) > 1 and blocks[-1][1] / blocks[-1][0] >= blocks[-2][1] / blocks[-2][0]:
            b = blocks.pop()
            blocks[-1][0] += b[0]
            blocks[-1][1] += b[1]
            blocks[-1][3] = b[3]
    recal = [0] * 61
    for bn, be, lo, hi in blocks:
        err = max(be, 1) / bn
        mq = 60 if err * TOP_READS <= 1 else max(0, min(60, int(-10 * math.log10(err) + 0.5)))
        print(f"  {title}isotonic block raw {lo}-{hi}: {bn:.0f} reads, {be:.0f} wrong -> MAPQ {mq}", file=sys.stderr)
        for q in range(lo, hi + 1):
            recal[q] = mq
    for q in range(1, 61):  # raw values no training read had, and a small block of no wrong read: the block below
        recal[q] = max(recal[q], recal[q - 1])
    return recal


BINS = [(0, 0), (1, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 60)]


def calibration(rows, q_of, title):
    print(f"\n{title}\n| MAPQ | reads | wrong | observed err | predicted err |\n|---|--:|--:|--:|--:|")
    for lo, hi in BINS:
        sel = [(y, q) for (y, q) in ((r[1], q_of(r)) for r in rows) if lo <= q <= hi]
        if not sel:
            continue
        n = len(sel)
        wr = sum(y for y, _ in sel)
        pred = sum(10 ** (-q / 10) for _, q in sel) / n
        print(f"| {lo}-{hi} | {n} | {wr} | {wr / n:.2e} | {pred:.2e} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ridge", type=float, default=1.0)
    ap.add_argument("--max-dist", type=int, default=20)
    ap.add_argument("--thin", type=int, default=4)
    ap.add_argument("--coef", help="take the logistic coefficients from this C file (src/mapq.c) and fit only the "
                    "recalibration tables")
    ap.add_argument("--keep", default="", help="with --coef: the tables (rest,diverged,...) kept from that file")
    ap.add_argument("sam", nargs="+")
    a = ap.parse_args()
    rows = []
    for p in a.sam:
        r = read_sam(p, a.max_dist)
        print(f"{p}: {len(r)} mapped, {sum(y for _, y, _, _ in r)} wrong, {sum(t for _, _, t, _ in r)} ties",
              file=sys.stderr)
        rows += r
    # every wrong read, and every --thin-th correct one with weight thin (the fit costs O(reads) per Newton step)
    train = [(x, y, 1 if y else a.thin) for i, (x, y, t, _) in enumerate(rows) if not t and (y or i % a.thin == 0)]
    w = read_coef(a.coef) if a.coef else fit(train, a.ridge)
    # one table per kind of evidence (es_mapq_evidence); strong evidence never lowers the rest's MAPQ
    recal = [isotonic([r for r in train if evidence(r[0]) == k], w, f"{name}: ") for k, name in enumerate(EVIDENCE)]
    for low, top in (("rest", "strong"), ("sketch", "sketch-strong")):
        lo, hi = EVIDENCE.index(low), EVIDENCE.index(top)
        recal[hi] = [max(u, v) for u, v in zip(recal[lo], recal[hi])]
    kept = read_tables(a.coef) if a.keep else {}
    for name in filter(None, a.keep.split(",")):
        recal[EVIDENCE.index(name)] = kept[name]
    print("static const double coef[] = {")
    for i, (c, n) in enumerate(zip(w, NAMES)):
        print(f"\t{c:.6g},  /* x{i} {n} */")
    print("};")
    print("static const unsigned char recal[ES_MAPQ_N_EVIDENCE][ES_MAPQ_MAX + 1] = {")
    for name, tab in zip(EVIDENCE, recal):
        print(f"\t{{ /* {name} */")
        for i in range(0, 61, 16):
            print("\t\t" + ", ".join(str(v) for v in tab[i:i + 16]) + ",")
        print("\t},")
    print("};")
    calibration(rows, lambda r: mapq_of(w, r[0], r[2]), "training reads, logistic model")
    calibration(rows, lambda r: mapq_of(w, r[0], r[2], recal),
                "training reads, logistic model + isotonic recalibration")
    for L in (100, 150, 250):
        sel = [r for r in rows if abs(r[0][10] - math.log2(L / 100)) < 1e-3]
        q = [(mapq_of(w, r[0], r[2], recal), r[1]) for r in sel]
        q20 = [y for m, y in q if m >= 20]
        q60 = [y for m, y in q if m >= 60]
        print(f"  {L} bp: {len(sel)} reads, MAPQ >= 20 {len(q20)} ({sum(q20)} wrong), "
              f"MAPQ 60 {len(q60)} ({sum(q60)} wrong)")
    print("\ntraining reads at or above a fitted MAPQ (the evidence for where the model may be trusted to say 60):")
    qs = sorted(((mapq_of(w, r[0], r[2]), r[1]) for r in rows), reverse=True)  # the logistic model's
    for t in range(60, 29, -3):
        sel = [y for q, y in qs if q >= t]
        print(f"  MAPQ >= {t}: {len(sel)} reads, {sum(sel)} wrong")
    calibration(rows, lambda r: r[3], "training reads, MAPQ in the SAM files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
