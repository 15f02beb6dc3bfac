"""Sum the benchmark TSVs the rules write, per paper (for the README)."""
import collections
import csv
import glob

rows = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0])
for f in glob.glob("results/benchmarks/*/**/*.tsv", recursive=True):
    paper = f.split("/")[2]
    with open(f) as fh:
        r = list(csv.DictReader(fh, delimiter="\t"))[-1]
    row = rows[paper]
    row[0] += 1
    row[1] += float(r["s"])
    row[2] += float(r["cpu_time"])
    row[3] = max(row[3], float(r["s"]))
print("| paper | heavy jobs | sum of job wall time (s) | sum of job CPU time (s) | longest job (s) |")
print("|---|---|---|---|---|")
tot = [0, 0, 0]
for p in sorted(rows):
    n, s, c, m = rows[p]
    tot[0] += n
    tot[1] += s
    tot[2] += c
    print(f"| {p} | {n} | {s:.0f} | {c:.0f} | {m:.0f} |")
print(f"| **all** | {tot[0]} | {tot[1]:.0f} | {tot[2]:.0f} | |")
