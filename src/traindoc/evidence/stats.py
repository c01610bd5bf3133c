"""Robust statistics the detectors share. Everything is O(n) numpy so a 1M-step run costs milliseconds.

Why these choices (see docs/references.md, Spike statistics):
- LLM stacks flag spikes with relative statistics, not absolute constants: OLMo/Levanter use mean + 6 sigma over a
  rolling 128-step window, an unnamed monitor uses a robust z (median / MAD) of log-loss > 8 over 100 points. We use
  the robust version (median and MAD are not dragged by the spike itself) on log values, over trailing *blocks*
  instead of a sliding window: the reference for a point is the block before it, which keeps the cost linear.
- Loss and grad norm are multiplicative quantities, so spikes are measured on log scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

MAD_TO_SIGMA = 1.4826  # MAD * 1.4826 estimates sigma for normal data


def cached(run: Any, key: str, compute: Callable[[], Any]) -> Any:
    """Memoise a statistic on the Run object, so ten detectors asking for the grad-norm spikes pay once."""
    cache = run.__dict__.setdefault("_traindoc_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def mad(x: np.ndarray) -> float:
    """Median absolute deviation (unscaled)."""
    if x.size == 0:
        return 0.0
    return float(np.median(np.abs(x - np.median(x))))


def safe_log(x: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    return np.log(np.maximum(np.abs(x), floor))


def robust_z_trailing(values: np.ndarray, window: int = 100, log: bool = True,
                      min_scale: float = 0.05) -> np.ndarray:
    """Robust z-score of each point against the median/MAD of the previous block of `window` finite points.

    Points in the first block get z = 0 (no reference yet: OLMo waits for 64 samples, we wait one block).
    `min_scale` floors the MAD (in log units ~5 %), so a perfectly flat series does not make every wiggle a spike.
    """
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    z = np.zeros(n)
    if n <= window:
        return z
    x = safe_log(v) if log else v.copy()
    finite = np.isfinite(x)
    if not finite.all():
        x = np.where(finite, x, np.nan)
    nblocks = n // window
    blocks = x[: nblocks * window].reshape(nblocks, window)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = block_median(blocks)
            dev = block_median(np.abs(blocks - med[:, None])) * MAD_TO_SIGMA
    dev = np.maximum(np.nan_to_num(dev, nan=min_scale), min_scale)
    med = np.nan_to_num(med, nan=0.0)
    # point i (in block b >= 1) is compared with block b-1
    ref_block = np.arange(n) // window - 1
    has_ref = ref_block >= 0
    rb = np.clip(ref_block, 0, nblocks - 1)
    z[has_ref] = (x[has_ref] - med[rb[has_ref]]) / dev[rb[has_ref]]
    z[~np.isfinite(z)] = 0.0
    return z


def block_median(blocks: np.ndarray) -> np.ndarray:
    """Median of each row, NaN left out. np.nanmedian takes a masked-array sort along an axis (~10x slower on a
    million-point series, bench/bench_diagnose.py); rows with no NaN are np.median's, with the same values."""
    if np.isfinite(blocks).all():
        return np.median(blocks, axis=1)
    return np.nanmedian(blocks, axis=1)


def choose_window(n: int) -> int:
    """A reference window: 100 points like the monitor script / LLM Foundry, smaller for short runs (>= 5)."""
    return int(max(5, min(100, n // 8)))


def downsample(steps: np.ndarray, values: np.ndarray, max_points: int = 4000,
               how: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """Block-reduce a long series to at most `max_points` (mean, max or median per block); short ones unchanged."""
    n = values.size
    if n <= max_points:
        return steps, values
    k = int(math.ceil(n / max_points))
    m = n // k
    v = values[: m * k].reshape(m, k)
    s = steps[: m * k].reshape(m, k)[:, 0]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if how == "max":
            r = np.nanmax(v, axis=1)
        elif how == "median":
            r = block_median(v)
        else:
            r = np.nanmean(v, axis=1)
    return s, r


def smooth(values: np.ndarray, k: int) -> np.ndarray:
    """Centred moving median-ish smoother: moving mean of width k over finite values (edges shrink)."""
    if k <= 1 or values.size < 3:
        return values.copy()
    k = min(k, values.size)
    scale = _magnitude(np.asarray(values, dtype=np.float64))  # see moving_mean: sums near 1e308 overflow
    with np.errstate(all="ignore"):
        c = np.cumsum(np.insert(values / scale, 0, 0.0))
        half = k // 2
        idx = np.arange(values.size)
        lo = np.clip(idx - half, 0, values.size)
        hi = np.clip(idx + half + 1, 0, values.size)
        return (c[hi] - c[lo]) / (hi - lo) * scale


def moving_mean(values: np.ndarray, k: int) -> np.ndarray:
    """Mean of every run of `k` consecutive values (what `np.convolve(values, ones(k) / k, "valid")` returns),
    in O(n) from one cumulative sum instead of O(n k): with k a fraction of n the convolution is quadratic
    (a 400k-point loss smoothed over 10 % of its points took 6.5 s). The values are centred on their mean first
    so the running sum stays small and the differences lose no precision."""
    x = np.asarray(values, dtype=np.float64)
    if k <= 1 or x.size == 0:
        return x.copy()
    k = min(k, x.size)
    # Work in units of the largest magnitude: a running sum of values near 1e308 would overflow (and numpy would
    # print a RuntimeWarning on the user's terminal). Non-finite values stay non-finite, quietly.
    scale = _magnitude(x)
    with np.errstate(all="ignore"):
        y = x / scale
        centre = float(y.mean())
        c = np.concatenate(([0.0], np.cumsum(y - centre)))
        return ((c[k:] - c[:-k]) / k + centre) * scale


def _magnitude(x: np.ndarray) -> float:
    """The largest finite |value| (1.0 when there is none): a divisor that keeps sums of x within range."""
    finite = np.abs(x[np.isfinite(x)])
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0.0 else 1.0


def group_means(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mean of `values` per group id, in increasing order of the ids that occur; the same as
    `[values[groups == g].mean() for g in np.unique(groups)]`, which is O(n x groups). Ids that are already in
    order (epochs of a sorted series) cost one pass; others one stable sort."""
    g = np.asarray(groups)
    v = np.asarray(values, dtype=np.float64)
    if g.size == 0:
        return np.zeros(0)
    if bool(np.any(g[1:] < g[:-1])):
        order = np.argsort(g, kind="stable")
        g, v = g[order], v[order]
    starts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))
    counts = np.diff(np.append(starts, g.size))
    return np.add.reduceat(v, starts) / counts


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of `a`, sorted. np.unique on int64 goes through a hash table in numpy 2.x that measured
    0.05 s at 100k steps and 0.5 s at 400k (super-linear); a sort is O(n log n) and nearly free on the sorted
    step columns every Run holds."""
    a = np.sort(np.asarray(a))
    if a.size < 2:
        return a
    return a[np.concatenate(([True], a[1:] != a[:-1]))]


def intersect_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Values of sorted-unique `a` that also occur in sorted-unique `b` (binary search, O(len(a) log len(b)))."""
    if a.size == 0 or b.size == 0:
        return a[:0]
    if a.size == b.size and bool(np.array_equal(a, b)):
        return a  # series logged on the same steps, the usual case: no search
    i = np.minimum(np.searchsorted(b, a), b.size - 1)
    return a[b[i] == a]


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average (weight `alpha` on the past), vectorised by blocks of 256 to stay O(n)."""
    out = np.empty_like(values, dtype=np.float64)
    if values.size == 0:
        return out
    acc = float(values[0])
    block = 256
    w = alpha ** np.arange(1, block + 1)
    for start in range(0, values.size, block):
        seg = values[start:start + block]
        m = seg.size
        # y_j = alpha^(j+1) * acc + (1-alpha) * sum_{i<=j} alpha^(j-i) x_i
        pw = alpha ** np.arange(m)
        conv = np.cumsum(seg / pw) * pw * (1 - alpha)
        out[start:start + m] = w[:m] * acc + conv
        acc = float(out[start + m - 1])
    return out


def change_point(values: np.ndarray) -> tuple[int, float]:
    """Best single mean-shift split (binary segmentation, one step): index of the first point of the second
    segment and the t-like statistic |mean2 - mean1| / pooled sd. O(n) with cumulative sums."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 6:
        return 0, 0.0
    c1 = np.cumsum(x)
    c2 = np.cumsum(x * x)
    k = np.arange(2, n - 1)  # split before index k (both sides >= 2 points)
    n1 = k.astype(np.float64)
    n2 = n - n1
    m1 = c1[k - 1] / n1
    m2 = (c1[-1] - c1[k - 1]) / n2
    ss1 = c2[k - 1] - n1 * m1 * m1
    ss2 = (c2[-1] - c2[k - 1]) - n2 * m2 * m2
    sd = np.sqrt(np.maximum(ss1 + ss2, 0) / max(n - 2, 1)) + 1e-12
    t = np.abs(m2 - m1) / sd * np.sqrt(n1 * n2 / n)
    i = int(np.argmax(t))
    return int(k[i]), float(t[i])


def slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and R^2 of y over x."""
    if x.size < 3:
        return 0.0, 0.0
    xm = x - x.mean()
    ym = y - y.mean()
    sxx = float(np.dot(xm, xm))
    if sxx == 0:
        return 0.0, 0.0
    b = float(np.dot(xm, ym)) / sxx
    syy = float(np.dot(ym, ym))
    r2 = (b * b * sxx / syy) if syy > 0 else 0.0
    return b, r2


def window_slice(steps: np.ndarray, start_frac: float, end_frac: float) -> slice:
    """Index slice covering the fraction [start_frac, end_frac) of the points."""
    n = steps.size
    return slice(int(n * start_frac), max(int(n * start_frac) + 1, int(math.ceil(n * end_frac))))


def fmt(v: float | int | None) -> str:
    """Short human number: 45.2, 0.0031, 1.2e-07, nan."""
    if v is None:
        return "n/a"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e5 or a < 1e-3:
        return f"{v:.2g}".replace("e-0", "e-").replace("e+0", "e+").replace("e+", "e")
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.3g}" if a < 10 else f"{v:.1f}"
    return f"{v:.3g}"


def mann_kendall_z(v: np.ndarray) -> float:
    """Mann-Kendall trend z of a series (Mann 1945; Kendall 1975): normal approximation, continuity-corrected, no
    ties correction (logged losses rarely tie). Positive for an upward trend, negative for a downward one."""
    n = v.size
    if n < 3:
        return 0.0
    sgn = np.sign(v[None, :] - v[:, None])
    s = float(np.triu(sgn, 1).sum())
    var = n * (n - 1) * (2 * n + 5) / 18.0
    if var <= 0 or s == 0:
        return 0.0
    return (s - float(np.sign(s))) / float(np.sqrt(var))
