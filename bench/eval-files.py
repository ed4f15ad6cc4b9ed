"""The numpy/pandas comparison for bench:eval-files: the same statistics from the same files, as a plain script.

Reads cohort.csv and the two prediction files with pandas, joins them on case_id, and per slice (overall,
4 sites, 2 sexes, 8 site x sex) and per model computes: AUC with its DeLong variance (placement values),
the paired DeLong covariance, average precision, sensitivity/specificity/PPV/NPV with Wilson intervals,
Brier score, ECE (10 equal-width bins) and the calibration intercept and slope (Newton-Raphson).
Prints one JSON line with the wall time from reading the files to writing the report.
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd

Z = 1.959963984540054


def wilson(x, n):
    if n == 0:
        return None
    p = x / n
    d = 1 + Z * Z / n
    c = (p + Z * Z / (2 * n)) / d
    h = Z * np.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / d
    return [p, c - h, c + h]


def placements(s, y):
    """DeLong placement values via sorting (ties count 1/2)."""
    pos, neg = s[y == 1], s[y == 0]
    neg_sorted, pos_sorted = np.sort(neg), np.sort(pos)
    lo = np.searchsorted(neg_sorted, pos, 'left')
    hi = np.searchsorted(neg_sorted, pos, 'right')
    v10 = (lo + 0.5 * (hi - lo)) / len(neg)
    lo = np.searchsorted(pos_sorted, neg, 'left')
    hi = np.searchsorted(pos_sorted, neg, 'right')
    v01 = 1 - (lo + 0.5 * (hi - lo)) / len(pos)
    return v10, v01


def logistic(x, y, offset_only):
    a, b = 0.0, 1.0
    for _ in range(50):
        mu = 1 / (1 + np.exp(-(a + b * x)))
        w = mu * (1 - mu)
        r = y - mu
        if offset_only:
            step = r.sum() / w.sum()
            a += step
            if abs(step) < 1e-8:
                return a
            continue
        h00, h01, h11 = w.sum(), (w * x).sum(), (w * x * x).sum()
        g0, g1 = r.sum(), (r * x).sum()
        det = h00 * h11 - h01 * h01
        da, db = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        a, b = a + da, b + db
        if abs(da) < 1e-8 and abs(db) < 1e-8:
            return b
    return None


def model_stats(s, y, threshold):
    v10, v01 = placements(s, y)
    auc = v10.mean()
    var = v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01)
    order = np.argsort(-s, kind='stable')
    ys = y[order]
    tp = np.cumsum(ys)
    ap = float((tp[ys == 1] / (np.nonzero(ys)[0] + 1)).sum() / ys.sum())
    alert = s >= threshold
    tp_, fp = int((alert & (y == 1)).sum()), int((alert & (y == 0)).sum())
    fn, tn = int((~alert & (y == 1)).sum()), int((~alert & (y == 0)).sum())
    bins = np.minimum((s * 10).astype(int), 9)
    counts = np.bincount(bins, minlength=10)
    gap = np.abs(np.bincount(bins, s, 10) - np.bincount(bins, y, 10))
    p = np.clip(s, 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p))
    return {
        'auc': auc,
        'aucVariance': var,
        'averagePrecision': ap,
        'sensitivity': wilson(tp_, tp_ + fn),
        'specificity': wilson(tn, tn + fp),
        'ppv': wilson(tp_, tp_ + fp),
        'npv': wilson(tn, tn + fn),
        'brier': float(((s - y) ** 2).mean()),
        'ece': float(gap.sum() / len(s)),
        'binCounts': counts.tolist(),
        'calibrationIntercept': logistic(logit, y, True),
        'calibrationSlope': logistic(logit, y, False),
        '_v': (v10, v01),
    }


def main(directory):
    t0 = time.perf_counter()
    cohort = pd.read_csv(os.path.join(directory, 'cohort.csv'), dtype={'site': 'category', 'sex': 'category'})
    cand = pd.read_csv(os.path.join(directory, 'candidate.csv'))
    inc = pd.read_csv(os.path.join(directory, 'incumbent.csv'))
    df = cohort.merge(cand, on='case_id', validate='one_to_one').merge(
        inc, on='case_id', suffixes=('_c', '_i'), validate='one_to_one')
    if len(df) != len(cohort):
        raise SystemExit('coverage')
    y = df['label'].to_numpy(np.int8)
    sc, si = df['score_c'].to_numpy(), df['score_i'].to_numpy()
    site, sex = df['site'].to_numpy(), df['sex'].to_numpy()
    masks = {'overall': np.ones(len(df), bool)}
    for s in sorted(set(site)):
        masks[f'site={s}'] = site == s
    for x in sorted(set(sex)):
        masks[f'sex={x}'] = sex == x
    for s in sorted(set(site)):
        for x in sorted(set(sex)):
            masks[f'site={s} & sex={x}'] = (site == s) & (sex == x)
    report = []
    for name, m in masks.items():
        yc = y[m]
        c, i = model_stats(sc[m], yc, 0.2), model_stats(si[m], yc, 0.2)
        (c10, c01), (i10, i01) = c.pop('_v'), i.pop('_v')
        cov = np.cov(c10, i10)[0, 1] / len(c10) + np.cov(c01, i01)[0, 1] / len(c01)
        report.append({'slice': name, 'n': int(m.sum()), 'candidate': c, 'incumbent': i, 'pairedCovariance': cov})
    with open(os.path.join(directory, 'report-numpy.json'), 'w') as f:
        json.dump(report, f, default=float)
    print(json.dumps({'seconds': round(time.perf_counter() - t0, 3), 'slices': len(report),
                      'overallAuc': report[0]['candidate']['auc']}))


if __name__ == '__main__':
    main(sys.argv[1])
