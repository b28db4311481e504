#!/usr/bin/python3
"""stats_reference.py: writes tests/data/stats_reference.txt, the reference
numbers tests/test_stats.c checks src/stats/stats.c against, computed with
SciPy and mpmath (implementations independent of GSL): t quantiles and tail
probabilities by mpmath at 40 digits (SciPy 1.10's t.ppf is only good to
about 1e-9 for fractional df), the t statistics cross-checked against SciPy's
ttest_rel / ttest_ind, the exact power by SciPy's noncentral t. Run once and
commit the output:

    /usr/bin/python3 tools/stats_reference.py > tests/data/stats_reference.txt

Needs Debian's python3-scipy and python3-mpmath (scripts/install-deps.sh --with-torch). The C
test needs no Python.

One case per line, whitespace-separated, numbers in full double precision,
NaN as "nan" and infinity as "inf":
    summary NAME N x_1..x_N                 n mean sd ci_lo ci_hi
    paired  NAME N a_1..a_N b_1..b_N        n diff ci_lo ci_hi t df p
    welch   NAME NA a_1..a_NA NB b_1..b_NB  diff ci_lo ci_hi t df p
    holm    NAME M p_1..p_M                 adj_1..adj_M
    seeds   NAME diff sd                    n_formula n_exact
Zero-variance tests follow lrscope's documented convention (scipy returns
nan or inf there): difference 0 -> t 0, p 1; nonzero constant -> t +-inf, p 0;
the interval is then [diff, diff]. Those lines are marked in their names.
"""
import math

import mpmath
import numpy as np
from scipy import stats

mpmath.mp.dps = 40

LEVEL = 0.95
ALPHA = 0.05
POWER = 0.80


def fmt(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def line(*parts):
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, (list, tuple, np.ndarray)):
            out.extend(fmt(x) if not isinstance(x, (int, np.integer)) else str(int(x)) for x in p)
        elif isinstance(p, (int, np.integer)):
            out.append(str(int(p)))
        else:
            out.append(fmt(p))
    print(" ".join(out))


def summary(name, x):
    x = np.asarray(x, dtype=float)
    f = x[np.isfinite(x)]
    n = len(f)
    mean = f.mean() if n else math.nan
    if n >= 2:
        sd = f.std(ddof=1)
        lo, hi = t_interval(mean, sd, n) if sd > 0 else (mean, mean)
    else:
        sd = lo = hi = math.nan
    line("summary", name, len(x), list(x), n, mean, sd, lo, hi)


def t_sf(x, df):
    """P(T > x), x >= 0, through the regularised incomplete beta function."""
    df = mpmath.mpf(df)
    x = mpmath.mpf(x)
    return mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, df / (df + x * x), regularized=True) / 2


def t_ppf(p, df):
    """The p quantile of Student's t (p > 0.5), by root finding on t_sf."""
    q = mpmath.findroot(lambda x: (1 - t_sf(x, df)) - mpmath.mpf(p), stats.t.ppf(p, df))
    return float(q)


def t_interval(mean, sd, n):
    h = t_ppf(1 - (1 - LEVEL) / 2, n - 1) * sd / math.sqrt(n)
    return mean - h, mean + h


def t_from(diff, se, df):
    """t, p and the interval; zero se by the documented convention."""
    if se > 0:
        t = diff / se
        p = float(2 * t_sf(abs(t), df))
        h = t_ppf(1 - (1 - LEVEL) / 2, df) * se
        return t, p, diff - h, diff + h
    t = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return t, (1.0 if diff == 0 else 0.0), diff, diff


def paired(name, a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    n = len(d)
    diff = d.mean() if n else math.nan
    if n >= 2:
        se = d.std(ddof=1) / math.sqrt(n)
        df = n - 1
        t, p, lo, hi = t_from(diff, se, df)
        if se > 0:  # cross-check against scipy's own paired test
            r = stats.ttest_rel(a[ok], b[ok])
            assert math.isclose(r.statistic, t, rel_tol=1e-12) and math.isclose(r.pvalue, p, rel_tol=1e-9)
    else:
        df = t = p = lo = hi = math.nan
    line("paired", name, len(a), list(a), list(b), n, diff, lo, hi, t, df, p)


def welch(name, a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    fa, fb = a[np.isfinite(a)], b[np.isfinite(b)]
    na, nb = len(fa), len(fb)
    diff = fa.mean() - fb.mean() if na and nb else math.nan
    if na >= 2 and nb >= 2:
        va, vb = fa.var(ddof=1) / na, fb.var(ddof=1) / nb
        se2 = va + vb
        df = se2 ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1)) if se2 > 0 else na + nb - 2
        t, p, lo, hi = t_from(diff, math.sqrt(se2), df)
        if se2 > 0:
            r = stats.ttest_ind(fa, fb, equal_var=False)
            assert math.isclose(r.statistic, t, rel_tol=1e-12) and math.isclose(r.pvalue, p, rel_tol=1e-9)
    else:
        df = t = p = lo = hi = math.nan
    line("welch", name, len(a), list(a), len(b), list(b), diff, lo, hi, t, df, p)


def holm(name, p):
    """Holm's step-down adjustment written out by hand (as in Holm 1979)."""
    p = np.asarray(p, dtype=float)
    adj = np.full(len(p), math.nan)
    idx = [i for i in range(len(p)) if np.isfinite(p[i])]
    idx.sort(key=lambda i: (p[i], i))
    m = len(idx)
    running = 0.0
    for j, i in enumerate(idx):
        running = max(running, min(1.0, (m - j) * p[i]))
        adj[i] = running
    line("holm", name, len(p), list(p), list(adj))


def seeds(name, diff, sd):
    """The documented formula (central t) and the exact noncentral-t answer."""
    r = sd / abs(diff)
    z = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)
    n = max(2, math.ceil(z * z * r * r))
    while True:
        q = t_ppf(1 - ALPHA / 2, n - 1) + t_ppf(POWER, n - 1)
        if n >= q * q * r * r:
            break
        n += 1
    n_formula = n
    n = 2
    while True:  # exact power of the two-sided paired t-test
        df = n - 1
        tc = stats.t.ppf(1 - ALPHA / 2, df)
        nc = abs(diff) / sd * math.sqrt(n)
        power = stats.nct.sf(tc, df, nc) + stats.nct.cdf(-tc, df, nc)
        if power >= POWER:
            break
        n += 1
    line("seeds", name, diff, sd, n_formula, n)


def main():
    print("# stats reference numbers from tools/stats_reference.py (SciPy %s, mpmath %s); do not edit" % (__import__("scipy").__version__, mpmath.__version__))
    rng = np.random.default_rng(20261128)
    summary("five", [0.5721, 0.5861, 0.5534, 0.5790, 0.5612])
    summary("n2", [0.61, 0.57])
    summary("n1", [0.42])
    summary("zero_var", [0.5, 0.5, 0.5, 0.5])
    summary("with_nan", [0.3, math.nan, 0.35, 0.28, math.nan, 0.33])
    summary("all_nan", [math.nan, math.nan])
    summary("offset", list(1e6 + rng.normal(0, 1e-3, 7)))
    summary("ten", list(rng.normal(1.7, 0.2, 10)))

    a = [0.5861, 0.5790, 0.5912, 0.5655, 0.5801]
    b = [0.5721, 0.5534, 0.5790, 0.5612, 0.5598]
    paired("five", a, b)
    paired("n2", [0.61, 0.58], [0.57, 0.56])
    paired("with_nan", [0.61, math.nan, 0.59, 0.60, 0.62], [0.58, 0.57, math.nan, 0.59, 0.60])
    paired("negative", b, a)
    paired("n1", [0.61, math.nan], [0.57, 0.5])
    paired("zero_var_same_convention", [0.5, 0.6, 0.7], [0.5, 0.6, 0.7])
    paired("zero_var_shift_convention", [0.75, 0.625, 0.5], [0.5, 0.375, 0.25])
    paired("eight", list(rng.normal(2.0, 1.0, 8)), list(rng.normal(1.5, 1.0, 8)))

    welch("five_four", a, [0.5721, 0.5534, 0.5790, 0.5612])
    welch("n2", [0.61, 0.58], [0.57, 0.52])
    welch("unequal_var", list(rng.normal(0.0, 0.1, 6)), list(rng.normal(0.3, 2.0, 9)))
    welch("with_nan", [0.61, math.nan, 0.59, 0.60], [0.58, 0.57, math.inf, 0.55, 0.50])
    welch("one_side_zero_var", [0.5, 0.5, 0.5], [0.4, 0.45, 0.41, 0.47])
    welch("both_zero_var_convention", [0.5, 0.5, 0.5], [0.25, 0.25])
    welch("one_value", [0.5], [0.4, 0.45])

    # Textbook example (Holm 1979 style, as in many lecture notes): five p-values.
    holm("textbook", [0.01, 0.04, 0.03, 0.005, 0.2])
    holm("capped", [0.3, 0.6, 0.02])
    holm("ties", [0.02, 0.02, 0.01, 0.5])
    holm("with_nan", [0.04, math.nan, 0.001])
    holm("one", [0.03])
    holm("random", list(rng.uniform(0, 0.1, 7)))

    seeds("large_effect", 0.02, 0.01)
    seeds("medium", 0.01, 0.012)
    seeds("small", 0.002, 0.01)
    seeds("negative", -0.005, 0.004)
    seeds("huge_effect", 0.5, 0.01)


if __name__ == "__main__":
    main()
