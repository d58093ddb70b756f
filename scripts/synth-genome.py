#!/usr/bin/env python3
"""synth-genome.py — a synthetic human-like genome of N bases, for measuring esalign at the scale of the human genome.

What it writes (FASTA, 60-base lines, to stdout or -o FILE; gzip when FILE ends in .gz):
  1. the real contig(s) of --real (default data/genomes/human.fa.gz, the first 70 Mb of hs37 chrX, named X), first,
     unchanged (same header line, same bases and case; only the line length becomes 60); --no-real leaves them out
     (they are still read: the model below is fitted on them);
  2. synthetic contigs syn1, syn2, ... of --contig-len bases up to --total bases in all (the real contigs count
     towards --total; the last contig is shorter, or longer by a remainder under a tenth of --contig-len), each
     made of:
     - background: an order-k Markov chain (k = --order, default 5) fitted on the real contigs' ACGT bases
       (case-insensitive; every (k+1)-mer of every run of ACGT counted, plus one pseudocount each);
     - interspersed repeats, --repeat-frac (default 0.45) of the contig's non-N bases (the human genome is ~45%
       transposon-derived): copies of repeat families taken from the real contigs' own repeats. A family is a window
       of the real sequence, 300 bp (--families of them, default 200) or U(5, 7) kb (--long-families, default 20),
       that is itself a repeat by this criterion: the 16-mers of the real sequence at every 8th position of each
       ACGT run are counted in a table of 2^25 counters indexed by crc32 of the 16-mer; a window passes when at
       least half of its 16-mers (every one for 300 bp, every 4th for the long windows) have a count, forward plus
       reverse complement, of at least 2, i.e. occur roughly 16 or more times in the real sequence (a unique 16-mer
       scores 1 at best: its own sample, one time in eight), and at least 90% of those 16-mers are distinct (not a
       tandem repeat, whose 16-mers are frequent because they repeat inside the window). Windows are drawn
       uniformly over the real sequence, must be all ACGT, and up to 20 candidates per family wanted are tried; if
       too few pass (a small or repeat-poor --real), the best-scoring candidates fill the families up (said on
       stderr). Repeat bases are 1/3 copies of the 300 bp families (the whole family 70% of the time, else a
       fragment of U(60, 300) bp at a random offset) and 2/3 copies of the long families (a 3' fragment of
       U(300, length) bp, like 5'-truncated LINEs), each family drawn uniformly, each copy on a random strand and
       mutated at a divergence d ~ U(2%, 20%): substitutions at rate d per base (to one of the three other bases,
       uniformly) and indel events at rate d/10 (half insertions of random bases, half deletions; length
       1 + geometric(1/2), at most 10);
     - tandem repeats, --tandem-frac (default 0.03) of the non-N bases: a unit of 1-60 bp (log-uniform; its bases
       taken from the background chain) repeated to a length of 50-5,000 bp (log-uniform), then mutated at 2%
       (substitutions 2%, indels 0.2%, as above);
     - N gaps: a run of 10 kb-1 Mb (log-uniform) on average every 20 Mb (exponential spacing), plus an N run at each
       end of the contig of U(0, 1%) of its length (about 1% of the contig at its ends).
     Background runs between the inserted elements are exponential with the mean that gives the fractions above;
     the element kinds are drawn with probabilities proportional to their fraction over their mean length.
     Synthetic bases are upper case.
  3. a truth table (-o FILE gives FILE.truth.tsv; --truth FILE chooses; none for stdout without --truth): '#' lines
     (the parameters, then one line per family with its source window), then one tab-separated line per inserted
     repeat copy, tandem repeat and N run: contig, beg, end (0-based, half-open, in the synthetic contig), kind
     (repeat, tandem, gap), family (S0001.. for the 300 bp families, L001.. for the long ones, (UNIT)n for a tandem
     repeat, end or internal for a gap), divergence (the d of the copy; 0.02 for tandem; . for a gap). The real
     contigs have no truth lines.

Everything is derived from --seed (default 1) and the inputs: the same command gives the same bytes (also the .gz:
no name or time in its header). Every synthetic contig has its own random stream, seeded from the seed and its
name, so syn1.. of two runs with the same seed, --contig-len and model are identical whatever --total (but the
last one or two). Python 3 standard library only; the genome is streamed (peak memory ~0.7 GB with the 70 Mb chrX,
whatever --total); the output is written under a temporary name and renamed when complete.

What it cannot tell: its repeats are chrX's repeats re-inserted, not the human genome's; its background is a
5th-order Markov chain: no genes, no GC isochores beyond what the chain carries, no segmental duplications beyond
the 6 kb family copies. Nor: the 220 families are windows of chrX and every copy diverges from its family on its
own (a star, not the real subfamily tree), no nested insertions, no CpG islands, no centromeric satellite arrays,
fewer N than GRCh37 (~2% against ~7%). It is a yardstick for the cost and the repeat-driven ambiguity of alignment
at 0.3-3.1 Gb, not for accuracy on real human reads.

Speed (one core, nice 19, Python 3.11, measured on 20 Mb): fitting on chrX 11-14 s CPU, then 8.5 Mb/s to a plain
FASTA, 6.5 Mb/s to .gz (gzip level 3): 1 Gb in ~3 min, 3.1 Gb in ~8 min. See docs/store.md, "A test genome at
scale".
"""
import argparse
import gzip
import math
import os
import random
import re
import sys
import time
import zlib
from array import array
from collections import Counter
from itertools import accumulate

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REAL = os.path.join(os.path.dirname(HERE), "data", "genomes", "human.fa.gz")
LINE = 60
COMP = bytes.maketrans(b"ACGTNacgtn", b"TGCANtgcan")
CODE = bytes.maketrans(b"ACGT", b"\0\1\2\3")
SUBST = {b: [bytes([c]) for c in b"ACGT" if c != b] for b in b"ACGT"}
ACGT = [b"A", b"C", b"G", b"T"]
SHORT_LEN = 300
LONG_MIN, LONG_MAX = 5000, 7000
HASH_BITS = 25
HASH_STRIDE = 8
HASH_K = 16
MIN_COUNT = 2
MIN_SCORE = 0.5
MIN_DISTINCT = 0.9
TRIES_PER_FAMILY = 20
GAP_EVERY = 20_000_000
GAP_MIN, GAP_MAX = 10_000, 1_000_000
END_FRAC = 0.01
TANDEM_DIV = 0.02


def die(msg):
    print(f"synth-genome: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_size(s):
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgG]?)(?:[bB][pP]?)?\s*", s)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a length like 3000000, 300M, 1G or 3.1G, got '{s}'")
    v = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()]
    if v < 0 or v > 1e12:
        raise argparse.ArgumentTypeError(f"length out of range: '{s}'")
    return int(round(v))


# ---------------------------------------------------------------- input

def read_fasta(path):
    """[(header line without '>', sequence bytes as in the file)]"""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        die(f"cannot read --real {path}: {e}")
    recs = []
    for chunk in data.split(b">")[1:]:
        nl = chunk.find(b"\n")
        if nl < 0:
            head, body = chunk, b""
        else:
            head, body = chunk[:nl], chunk[nl + 1:]
        seq = body.replace(b"\n", b"").replace(b"\r", b"").replace(b" ", b"")
        recs.append((head.rstrip(b"\r").decode("ascii", "replace"), seq))
    if not recs or data[:1] != b">":
        die(f"--real {path}: not a FASTA file (no '>' record at its start)")
    return recs


def acgt_runs(seqs, minlen):
    for s in seqs:
        for r in re.split(rb"[^ACGT]+", s):
            if len(r) >= minlen:
                yield r


# ---------------------------------------------------------------- the background model

def count_kmers(runs, K):
    """Counts of every K-mer (K <= 8) of every run, as a list indexed by the 2-bit code. Each K-mer is two halves
    of at most 4 bases; the half codes of all positions come from shifts of one big integer (a byte per base), and
    the two halves of a position sit in one 16-bit lane that Counter counts."""
    h1 = (K + 1) // 2
    h2 = K - h1
    cnt = Counter()
    CH = 1 << 22
    for r in runs:
        for o in range(0, len(r) - K + 1, CH):
            b = r[o:o + CH + K - 1].translate(CODE)
            n = len(b) - K + 1
            x = int.from_bytes(b, "little")
            c1 = 0
            for j in range(h1):
                c1 += (x >> (8 * j)) << (2 * (h1 - 1 - j))
            c2 = 0
            for j in range(h2):
                c2 += (x >> (8 * (h1 + j))) << (2 * (h2 - 1 - j))
            z = bytearray(2 * n)
            z[0::2] = c1.to_bytes(len(b) + 8, "little")[:n]
            if h2:
                z[1::2] = c2.to_bytes(len(b) + 8, "little")[:n]
            cnt.update(memoryview(z).cast("H"))
    out = [0] * (4 ** K)
    for v, c in cnt.items():
        out[(v & 0xFF) * (4 ** h2) + (v >> 8)] = c
    return out


class Model:
    """Order-k chain, sampled L = 10 - k bases at a time: for every k-mer state, the cumulative probabilities of the
    4^L next L-mers (exact products of the k-th order transitions), so one draw gives L bases."""

    def __init__(self, runs, k):
        self.k = k
        K = k + 1
        counts = count_kmers(runs, K)
        self.nobs = sum(counts)
        ns = 4 ** k
        trans = []
        state_w = []
        for s in range(ns):
            row = [counts[4 * s + b] + 1 for b in range(4)]
            t = sum(row)
            trans.append([c / t for c in row])
            state_w.append(t)
        self.state_cw = list(accumulate(state_w))
        L = max(1, 10 - k)
        self.L = L
        mask = ns - 1
        self.cw = []
        for s in range(ns):
            pr = [1.0]
            st = [s]
            for _ in range(L):
                npr, nst = [], []
                for p, q in zip(pr, st):
                    tq = trans[q]
                    q4 = (q << 2) & mask
                    for b in range(4):
                        npr.append(p * tq[b])
                        nst.append(q4 | b)
                pr, st = npr, nst
            self.cw.append(list(accumulate(pr)))
        self.lmers = ["".join("ACGT"[(o >> (2 * (L - 1 - j))) & 3] for j in range(L)).encode() for o in range(4 ** L)]


class Chain:
    """A stream of background bases from the model; take(n) returns the next n. Each state draws its next L-mers
    ahead, in pools (iid draws from its distribution, used in order: the chain is exact)."""
    POOL = 256

    def __init__(self, model, rng):
        self.m = model
        self.rng = rng
        self.its = [iter(()) for _ in range(4 ** model.k)]
        self.psz = [8] * (4 ** model.k)  # pool sizes, doubling up to POOL: no waste on rare states
        self.state = rng.choices(range(4 ** model.k), cum_weights=model.state_cw)[0]
        self.buf = b""
        self.off = 0

    def _more(self, nbases):
        m = self.m
        steps = nbases // m.L + 1
        its, psz, cw, choices, pop, P = self.its, self.psz, m.cw, self.rng.choices, range(4 ** m.L), self.POOL
        sh, km = 2 * m.L, (4 ** m.k) - 1
        c = self.state
        out = []
        app = out.append
        for _ in range(steps):
            o = next(its[c], -1)
            if o < 0:
                k = psz[c]
                if k < P:
                    psz[c] = 2 * k
                its[c] = it = iter(choices(pop, cum_weights=cw[c], k=k))
                o = next(it)
            app(o)
            c = ((c << sh) | o) & km
        self.state = c
        self.buf = self.buf[self.off:] + b"".join(map(m.lmers.__getitem__, out))
        self.off = 0

    def take(self, n):
        if self.off + n > len(self.buf):
            self._more(max(n, 1 << 18))
        s = self.buf[self.off:self.off + n]
        self.off += n
        return s


# ---------------------------------------------------------------- repeat families

def kmer_table(runs):
    M = (1 << HASH_BITS) - 1
    tab = array("H", bytes(2 << HASH_BITS))
    crc = zlib.crc32
    for r in runs:
        for h in map(crc, [r[i:i + HASH_K] for i in range(0, len(r) - HASH_K + 1, HASH_STRIDE)]):
            h &= M
            if tab[h] < 65535:
                tab[h] += 1
    return tab


def window_score(tab, w, step):
    M = (1 << HASH_BITS) - 1
    crc = zlib.crc32
    rc = w.translate(COMP)[::-1]
    n = len(w)
    good = tot = 0
    for p in range(0, n - HASH_K + 1, step):
        c = tab[crc(w[p:p + HASH_K]) & M] + tab[crc(rc[n - HASH_K - p:n - p]) & M]
        tot += 1
        good += c >= MIN_COUNT
    return good / tot


def pick_families(rng, seqs, names, tab, want, lo, hi, step, prefix, log):
    total = sum(len(s) for s in seqs)
    cum = list(accumulate(len(s) for s in seqs))
    passed, failed = [], []
    tries = 0
    while len(passed) < want and tries < TRIES_PER_FAMILY * want:
        tries += 1
        wl = rng.randint(lo, hi)
        g = rng.randrange(total)
        i = next(j for j, c in enumerate(cum) if g < c)
        beg = g - (cum[i] - len(seqs[i]))
        w = seqs[i][beg:beg + wl]
        if len(w) < wl or re.search(rb"[^ACGT]", w):
            continue
        pos = range(0, wl - HASH_K + 1, step)
        if len({w[p:p + HASH_K] for p in pos}) < MIN_DISTINCT * len(pos):
            continue  # low complexity: a tandem repeat, not an interspersed one
        sc = window_score(tab, w, step)
        (passed if sc >= MIN_SCORE else failed).append((sc, names[i], beg, w))
    fams = passed[:want]
    log(f"{prefix} families: {len(fams)} of {tries} candidate windows passed the repeat criterion")
    if len(fams) < want:
        failed.sort(key=lambda t: -t[0])
        extra = failed[:want - len(fams)]
        log(f"only {len(fams)} of {want} {prefix} family windows passed the repeat criterion in {tries} tries; "
            f"{len(extra)} best-scoring others fill up (scores {extra[0][0]:.2f}..{extra[-1][0]:.2f})" if extra else
            f"only {len(fams)} of {want} {prefix} family windows found")
        fams += extra
    if not fams:
        die(f"no {prefix} family window found in --real (too short, or no run of ACGT of {lo} bases)")
    width = 4 if prefix == "S" else 3
    return [(f"{prefix}{i + 1:0{width}d}", sc, nm, beg, w) for i, (sc, nm, beg, w) in enumerate(fams)]


# ---------------------------------------------------------------- mutation

def mutate(rng, s, d):
    """Substitutions at rate d per base, indel events at rate d/10 (half insertions, half deletions)."""
    pe = d * 1.1
    if pe <= 0:
        return s
    lq = math.log(1.0 - pe)
    rnd = rng.random
    log = math.log
    out = []
    app = out.append
    i = 0
    n = len(s)
    while True:
        j = i + int(log(1.0 - rnd()) / lq)
        if j >= n:
            app(s[i:])
            break
        app(s[i:j])
        u = rnd()
        if u < 10 / 11:
            b = s[j]
            app(SUBST[b][int(rnd() * 3)] if b in SUBST else s[j:j + 1])
            i = j + 1
        else:
            ln = 1
            while ln < 10 and rnd() < 0.5:
                ln += 1
            if u < 21 / 22:
                app(s[j:j + 1])
                app(b"".join(rng.choices(ACGT, k=ln)))
                i = j + 1
            else:
                i = j + ln
    return b"".join(out)


# ---------------------------------------------------------------- output

class Fasta:
    def __init__(self, f):
        self.f = f
        self.buf = bytearray()
        self.n = 0

    def header(self, h):
        self.f.write(b">" + h.encode() + b"\n")

    def write(self, s):
        self.buf += s
        self.n += len(s)
        if len(self.buf) >= 1 << 21:
            self._flush(False)

    def _flush(self, final):
        b = self.buf
        n = len(b) if final else len(b) - len(b) % LINE
        if n:
            mv = memoryview(b)
            self.f.write(b"\n".join([mv[i:i + LINE] for i in range(0, n, LINE)]) + b"\n")
            del mv
            del b[:n]

    def end(self):
        self._flush(True)


class Out:
    """A file written under a temporary name and renamed on commit(); gzip when the name ends in .gz."""

    def __init__(self, path, gz_ok=True):
        self.path = path
        self.tmp = None
        if path is None:
            self.raw = None
            self.f = sys.stdout.buffer
            return
        d = os.path.dirname(os.path.abspath(path))
        self.tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.tmp")
        self.raw = open(self.tmp, "wb", buffering=1 << 20)
        if gz_ok and path.endswith(".gz"):
            self.f = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, compresslevel=3, mtime=0)
        else:
            self.f = self.raw

    def commit(self):
        if self.raw is None:
            self.f.flush()
            return
        if self.f is not self.raw:
            self.f.close()
        self.raw.close()
        os.replace(self.tmp, self.path)
        self.tmp = None

    def abort(self):
        if self.tmp:
            try:
                self.raw.close()
            except OSError:
                pass
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


# ---------------------------------------------------------------- a synthetic contig

def loguni(rng, a, b):
    return int(math.exp(rng.uniform(math.log(a), math.log(b))))


class Layout:
    def __init__(self, args, model, shorts, longs):
        self.model = model
        self.shorts = shorts
        self.longs = longs
        fr, ft = args.repeat_frac, args.tandem_frac
        ms = sum(0.7 * len(w) + 0.3 * (60 + len(w)) / 2 for *_, w in shorts) / len(shorts)
        ml = sum((min(300, len(w)) + len(w)) / 2 for *_, w in longs) / len(longs)
        mt = (5000 - 50) / math.log(5000 / 50) - 0.5
        fracs = [fr / 3, fr * 2 / 3, ft]
        self.kinds = ["short", "long", "tandem"]
        self.kind_w = [f / m for f, m in zip(fracs, [ms, ml, mt])]
        fe = fr + ft
        self.elements = fe > 0
        self.bg_mean = (fe / sum(self.kind_w)) * (1 - fe) / fe if self.elements else 0.0

    def element(self, rng, chain):
        kind = rng.choices(self.kinds, weights=self.kind_w)[0]
        if kind == "tandem":
            u = min(60, loguni(rng, 1, 61))
            unit = chain.take(u)
            tl = loguni(rng, 50, 5000)
            s = (unit * (tl // u + 1))[:tl]
            return mutate(rng, s, TANDEM_DIV), "tandem", f"({unit.decode()})n", TANDEM_DIV
        if kind == "short":
            name, _, _, _, w = self.shorts[rng.randrange(len(self.shorts))]
            if rng.random() < 0.7:
                frag = w
            else:
                fl = rng.randint(min(60, len(w)), len(w))
                o = rng.randint(0, len(w) - fl)
                frag = w[o:o + fl]
        else:
            name, _, _, _, w = self.longs[rng.randrange(len(self.longs))]
            fl = rng.randint(min(300, len(w)), len(w))
            frag = w[len(w) - fl:]
        if rng.random() < 0.5:
            frag = frag.translate(COMP)[::-1]
        d = rng.uniform(0.02, 0.20)
        return mutate(rng, frag, d), "repeat", name, d

    def contig(self, seed, name, length, fa, truth, stats):
        rng = random.Random(f"esalign-synth:{seed}:{name}")
        chain = Chain(self.model, rng)
        fa.header(name)

        def rec(beg, end, kind, fam, div):
            stats[kind] = stats.get(kind, 0) + (end - beg)
            if truth is not None:
                truth.write(f"{name}\t{beg}\t{end}\t{kind}\t{fam}\t{div}\n".encode())

        e0 = int(length * rng.uniform(0, END_FRAC))
        e1 = int(length * rng.uniform(0, END_FRAC))
        if e0 + e1 >= length:
            e0, e1 = length // 2, length - length // 2
        body_end = length - e1
        if e0:
            fa.write(b"N" * e0)
            rec(0, e0, "gap", "end", ".")
        pos = e0
        next_gap = pos + rng.expovariate(1 / GAP_EVERY)
        while pos < body_end:
            b = int(rng.expovariate(1 / self.bg_mean)) if self.elements else body_end - pos
            if pos + b >= next_gap and next_gap < body_end:
                b = max(0, int(next_gap) - pos)
                fa.write(chain.take(b))
                stats["background"] = stats.get("background", 0) + b
                pos += b
                g = min(loguni(rng, GAP_MIN, GAP_MAX), body_end - pos)
                fa.write(b"N" * g)
                rec(pos, pos + g, "gap", "internal", ".")
                pos += g
                next_gap = pos + rng.expovariate(1 / GAP_EVERY)
                continue
            b = min(b, body_end - pos)
            if b:
                fa.write(chain.take(b))
                stats["background"] = stats.get("background", 0) + b
                pos += b
            if pos >= body_end:
                break
            s, kind, fam, d = self.element(rng, chain)
            s = s[:body_end - pos]
            if s:
                fa.write(s)
                rec(pos, pos + len(s), kind, fam, f"{d:.4f}")
                pos += len(s)
        if e1:
            fa.write(b"N" * e1)
            rec(body_end, length, "gap", "end", ".")
        fa.end()


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(
        prog="synth-genome.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s --total SIZE [-o FILE[.gz]] [--truth FILE] [--seed N] [--contig-len SIZE] [--order K]\n"
              "                       [--real FASTA | --no-real] [--repeat-frac F] [--tandem-frac F]\n"
              "                       [--families N] [--long-families N] [-q]",
        description=__doc__)
    ap.add_argument("--total", type=parse_size, metavar="SIZE", required=True,
                    help="total length of the genome in bases, real contigs included (3000000, 300M, 1G, 3.1G)")
    ap.add_argument("-o", "--output", metavar="FILE", help="output FASTA (gzip if it ends in .gz); default stdout")
    ap.add_argument("--truth", metavar="FILE", help="truth table (default FILE.truth.tsv with -o; none for stdout)")
    ap.add_argument("--seed", type=int, metavar="N", default=1, help="random seed (default 1)")
    ap.add_argument("--contig-len", type=parse_size, metavar="SIZE", default=100_000_000,
                    help="length of each synthetic contig (default 100M)")
    ap.add_argument("--order", type=int, metavar="K", default=5,
                    help="order of the background Markov chain, 1..7 (default 5)")
    ap.add_argument("--real", metavar="FASTA", default=DEFAULT_REAL,
                    help="real FASTA[.gz]: written first and fitted on (default data/genomes/human.fa.gz of the "
                         "repository)")
    ap.add_argument("--no-real", action="store_true", help="do not write the real contigs (still fitted on)")
    ap.add_argument("--repeat-frac", type=float, metavar="F", default=0.45,
                    help="fraction of the synthetic non-N bases in interspersed repeat copies (default 0.45)")
    ap.add_argument("--tandem-frac", type=float, metavar="F", default=0.03,
                    help="fraction of the synthetic non-N bases in tandem repeats (default 0.03)")
    ap.add_argument("--families", type=int, metavar="N", default=200,
                    help="number of 300 bp repeat families (default 200)")
    ap.add_argument("--long-families", type=int, metavar="N", default=20,
                    help="number of ~6 kb repeat families (default 20)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args()
    if not 1 <= args.order <= 7:
        die(f"--order: expected 1..7, got {args.order}")
    if args.contig_len < 1000:
        die(f"--contig-len: expected at least 1000, got {args.contig_len}")
    if not (0 <= args.repeat_frac and 0 <= args.tandem_frac and args.repeat_frac + args.tandem_frac < 1):
        die("--repeat-frac and --tandem-frac: expected fractions >= 0 summing to less than 1")
    if args.families < 1 or args.long_families < 1:
        die("--families and --long-families: expected at least 1")
    truth_path = args.truth or (args.output + ".truth.tsv" if args.output else None)

    for p in (args.output, truth_path):
        d = os.path.dirname(os.path.abspath(p)) if p else None
        if d and not (os.path.isdir(d) and os.access(d, os.W_OK)):
            die(f"cannot write {p}: {d} is not a writable directory")
    t0 = time.process_time()
    w0 = time.time()

    def log(msg):
        if not args.quiet:
            print(f"synth-genome: {msg}", file=sys.stderr, flush=True)

    recs = read_fasta(args.real)
    names = [h.split()[0] if h.split() else f"real{i + 1}" for i, (h, _) in enumerate(recs)]
    upper = [s.upper() for _, s in recs]
    real_len = sum(len(s) for s in upper)
    if not args.no_real and args.total < real_len:
        die(f"--total {args.total} is less than the real contigs' {real_len} bases (use --no-real, or a larger total)")
    syn_total = args.total - (0 if args.no_real else real_len)
    runs = list(acgt_runs(upper, min(args.order + 1, HASH_K)))
    model = Model([r for r in runs if len(r) > args.order], args.order)
    if model.nobs == 0:
        die(f"--real {args.real}: no run of {args.order + 1} ACGT bases to fit the chain on")
    tab = kmer_table([r for r in runs if len(r) >= HASH_K])
    del runs
    frng = random.Random(f"esalign-synth:{args.seed}:families")
    shorts = pick_families(frng, upper, names, tab, args.families, SHORT_LEN, SHORT_LEN, 1, "S", log)
    longs = pick_families(frng, upper, names, tab, args.long_families, LONG_MIN, LONG_MAX, 4, "L", log)
    del tab
    fit_cpu = time.process_time() - t0
    log(f"fitted on {real_len} real bases ({model.nobs} {args.order + 1}-mers), {len(shorts)}+{len(longs)} families "
        f"in {fit_cpu:.1f} s CPU")

    outs = []
    try:
        out = Out(args.output)
        outs.append(out)
        truth_out = Out(truth_path, gz_ok=False) if truth_path else None
        if truth_out:
            outs.append(truth_out)
            tf = truth_out.f
            tf.write((f"# synth-genome.py truth: seed={args.seed} total={args.total} contig_len={args.contig_len} "
                      f"order={args.order} repeat_frac={args.repeat_frac} tandem_frac={args.tandem_frac} "
                      f"real={os.path.basename(args.real)} ({real_len} bases{', not written' if args.no_real else ''}"
                      f"; no truth lines)\n").encode())
            for fam in shorts + longs:
                fname, sc, src, beg, w = fam
                tf.write(f"# family {fname} {src}:{beg}-{beg + len(w)} len={len(w)} score={sc:.2f}\n".encode())
            tf.write(b"#contig\tbeg\tend\tkind\tfamily\tdivergence\n")
        else:
            tf = None
        fa = Fasta(out.f)
        if not args.no_real:
            for (h, s) in recs:
                fa.header(h)
                fa.write(s)
                fa.end()
        layout = Layout(args, model, shorts, longs)
        stats = {}
        i = 0
        left = syn_total
        while left > 0:
            i += 1
            ln = min(args.contig_len, left)
            if left - ln < args.contig_len / 10:
                ln = left  # a remainder under a tenth of --contig-len joins the last contig
            c0 = time.process_time()
            layout.contig(args.seed, f"syn{i}", ln, fa, tf, stats)
            left -= ln
            dt = time.process_time() - c0
            log(f"syn{i}: {ln} bases in {dt:.1f} s CPU ({ln / max(dt, 1e-9) / 1e6:.2f} Mb/s)")
        for o in reversed(outs):
            o.commit()
    except OSError as e:
        for o in outs:
            o.abort()
        if isinstance(e, BrokenPipeError):  # e.g. '| head': stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        die(f"cannot write: {e}")
    except BaseException:
        for o in outs:
            o.abort()
        raise
    gen_cpu = time.process_time() - t0 - fit_cpu
    nonn = syn_total - stats.get("gap", 0)
    pct = lambda k: 100 * stats.get(k, 0) / max(nonn, 1)
    log(f"wrote {fa.n} bases ({fa.n - syn_total} real, {syn_total} synthetic in {i} contigs; of the synthetic "
        f"non-N bases: repeat {pct('repeat'):.1f}%, tandem {pct('tandem'):.1f}%, background {pct('background'):.1f}%; "
        f"N {100 * stats.get('gap', 0) / max(syn_total, 1):.1f}% of the synthetic bases); "
        f"CPU {fit_cpu:.1f} s fit + {gen_cpu:.1f} s generation "
        f"({syn_total / max(gen_cpu, 1e-9) / 1e6:.2f} Mb/s), wall {time.time() - w0:.1f} s")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
