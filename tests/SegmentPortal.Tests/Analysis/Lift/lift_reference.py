#!/usr/bin/env python3
"""Reference values for LiftServiceTests: the lift report of a campaign started on 1997-10-01 on the CDNOW sample
(tests/SegmentPortal.Tests/Data/cdnow/CDNOW_sample.txt), every customer a segment member, 25% held out with the salt
"cdnow-lift", written to lift_reference.json next to this script.

Not run by CI: the tests read the committed JSON. To regenerate (Debian: apt-get install python3-scipy):

    /usr/bin/python3 lift_reference.py

Everything here is independent of the C# code:
- Holdout: SHA-256 of "salt:customer key" (the key as text, e.g. "17"), its first four bytes as a big-endian unsigned
  number divided by 2^32, held out when below the share.
- Per customer, from the file: orders = distinct purchase days on or after the start (the file has no order number),
  revenue = the sum of the dollar values of those purchases, repeat = 1 with two or more orders; 0 for none.
- Means: scipy.stats.ttest_ind(treated, holdout, equal_var=False) for t and p; the 95% interval is
  difference +/- scipy.stats.t.ppf(0.975, df) * SE with the Welch-Satterthwaite df (SciPy 1.10 has no
  confidence_interval() on that result; with SciPy >= 1.11 it is taken from SciPy and checked).
- Rates: Newcombe's hybrid score interval (1998, method 10) from the two Wilson intervals of
  scipy.stats.binomtest(...).proportion_ci(method="wilson"); p from the pooled two-proportion z-test, checked against
  scipy.stats.chi2_contingency(correction=False).
"""
import hashlib
import json
import os
import struct
from datetime import date

import numpy as np
import scipy
import scipy.stats as st

SALT = "cdnow-lift"
SHARE = 0.25
START = date(1997, 10, 1)
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "Data", "cdnow", "CDNOW_sample.txt")


def held_out(key):
    digest = hashlib.sha256(f"{SALT}:{key}".encode("utf-8")).digest()
    return struct.unpack(">I", digest[:4])[0] / 4294967296.0 < SHARE


def read():
    days, revenue, customers = {}, {}, set()
    with open(DATA, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 5:
                continue
            customer = int(parts[1])
            customers.add(customer)
            day = date(int(parts[2][:4]), int(parts[2][4:6]), int(parts[2][6:]))
            if day >= START:
                days.setdefault(customer, set()).add(day)
                revenue[customer] = revenue.get(customer, 0.0) + float(parts[4])
    return customers, days, revenue


def welch(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    res = st.ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    diff = a.mean() - b.mean()
    q = st.t.ppf(0.975, df)
    low, high = diff - q * se, diff + q * se
    if hasattr(res, "confidence_interval"):
        ci = res.confidence_interval(0.95)
        assert np.isclose(ci.low, low) and np.isclose(ci.high, high)
    assert np.isclose(res.statistic, diff / se)
    return {
        "treated": {"n": len(a), "mean": a.mean(), "sd": a.std(ddof=1)},
        "holdout": {"n": len(b), "mean": b.mean(), "sd": b.std(ddof=1)},
        "difference": diff, "low": low, "high": high, "p": float(res.pvalue), "statistic": float(res.statistic), "df": float(df),
    }


def rates(a, b):
    y1, n1, y2, n2 = int(sum(a)), len(a), int(sum(b)), len(b)
    p1, p2 = y1 / n1, y2 / n2
    w1 = st.binomtest(y1, n1).proportion_ci(0.95, method="wilson")
    w2 = st.binomtest(y2, n2).proportion_ci(0.95, method="wilson")
    diff = p1 - p2
    low = diff - np.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = diff + np.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    pooled = (y1 + y2) / (n1 + n2)
    z = diff / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = 2 * st.norm.sf(abs(z))
    chi2, p_chi, _, _ = st.chi2_contingency([[y1, n1 - y1], [y2, n2 - y2]], correction=False)
    assert np.isclose(chi2, z * z) and np.isclose(p_chi, p)
    return {
        "treated": {"n": n1, "mean": p1, "yes": y1},
        "holdout": {"n": n2, "mean": p2, "yes": y2},
        "difference": diff, "low": low, "high": high, "p": float(p), "statistic": float(z), "df": None,
    }


def main():
    customers, days, revenue = read()
    treated = [c for c in sorted(customers) if not held_out(str(c))]
    holdout = [c for c in sorted(customers) if held_out(str(c))]
    orders = lambda group: [len(days.get(c, ())) for c in group]
    spent = lambda group: [revenue.get(c, 0.0) for c in group]
    repeat = lambda group: [1 if len(days.get(c, ())) >= 2 else 0 for c in group]
    out = {
        "scipy": scipy.__version__,
        "salt": SALT,
        "share": SHARE,
        "start": START.isoformat(),
        "customers": len(customers),
        "heldOutKeys": holdout,
        "orders": welch(orders(treated), orders(holdout)),
        "revenue": welch(spent(treated), spent(holdout)),
        "repeatRate": rates(repeat(treated), repeat(holdout)),
    }
    with open(os.path.join(HERE, "lift_reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, default=float)
        f.write("\n")


if __name__ == "__main__":
    main()
