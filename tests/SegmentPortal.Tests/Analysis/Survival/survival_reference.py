#!/usr/bin/env python3
"""Reference values for SurvivalEngineTests: Kaplan-Meier curves, Greenwood standard errors, the 95% band and the
log-rank test on a seeded generated data set, written to survival_reference.json next to this script.

Not run by CI: the tests read the committed JSON. To regenerate (Debian: apt-get install python3-scipy python3-statsmodels):

    python3 survival_reference.py

Sources, all independent of the C# engine:
- Kaplan-Meier and Greenwood: statsmodels.duration.survfunc.SurvfuncRight (surv_prob, surv_prob_se, quantile(0.5));
  when SciPy >= 1.11 is present, scipy.stats.ecdf(CensoredData).sf is checked against it as well.
- The band: SciPy's default for ecdf(...).sf.confidence_interval() ('linear'): S +/- z(0.975) * SE, clipped to [0, 1];
  with SciPy >= 1.11 the band is taken from SciPy itself.
- Log-rank: statsmodels.duration.survfunc.survdiff (k groups, chi-square with k-1 df); with SciPy >= 1.11 the two-group
  statistic is checked against scipy.stats.logrank (its statistic squared is the chi-square).
"""
import json
import os

import numpy as np
import scipy
import scipy.stats as st
from statsmodels.duration.survfunc import SurvfuncRight, survdiff


def generate(seed):
    rng = np.random.default_rng(seed)
    groups = []
    # Three groups with different event rates; whole-day times so that tied times occur; censoring by a follow-up limit
    # and at random.
    for name, scale, n in (("North", 40.0, 60), ("South", 80.0, 50), ("East", 60.0, 40)):
        event_time = np.ceil(rng.exponential(scale, n))
        censor_time = np.ceil(rng.uniform(10, 200, n))
        time = np.minimum(event_time, censor_time)
        event = (event_time <= censor_time).astype(int)
        groups.append({"name": name, "time": time.tolist(), "event": event.tolist()})
    return groups


def curve(time, event):
    sf = SurvfuncRight(np.asarray(time), np.asarray(event))
    z = st.norm.ppf(0.975)
    surv = np.asarray(sf.surv_prob)
    se = np.asarray(sf.surv_prob_se)
    lower = np.clip(surv - z * se, 0, 1)
    upper = np.clip(surv + z * se, 0, 1)
    source = "statsmodels SurvfuncRight; band S +/- z*SE clipped"
    if hasattr(st, "ecdf"):
        res = st.ecdf(st.CensoredData.right_censored(np.asarray(time), 1 - np.asarray(event)))
        ci = res.sf.confidence_interval()
        at = np.asarray(sf.surv_times)
        assert np.allclose(res.sf.evaluate(at), surv)
        lower, upper = ci.low.evaluate(at), ci.high.evaluate(at)
        source = "statsmodels SurvfuncRight checked against scipy.stats.ecdf; band from scipy (linear)"
    median = sf.quantile(0.5)
    return {
        "times": np.asarray(sf.surv_times).tolist(),
        "atRisk": np.asarray(sf.n_risk).astype(int).tolist(),
        "events": np.asarray(sf.n_events).astype(int).tolist(),
        "survival": surv.tolist(),
        "standardError": se.tolist(),
        "lower": np.asarray(lower).tolist(),
        "upper": np.asarray(upper).tolist(),
        "median": None if median is None or np.isnan(median) else float(median),
        "source": source,
    }


def logrank(groups):
    time = np.concatenate([g["time"] for g in groups])
    event = np.concatenate([g["event"] for g in groups])
    label = np.concatenate([[i] * len(g["time"]) for i, g in enumerate(groups)])
    chi2, p = survdiff(time, event, label)
    result = {"chiSquare": float(chi2), "df": len(groups) - 1, "pValue": float(p), "source": "statsmodels survdiff"}
    if len(groups) == 2 and hasattr(st, "logrank"):
        a = st.CensoredData.right_censored(np.asarray(groups[0]["time"]), 1 - np.asarray(groups[0]["event"]))
        b = st.CensoredData.right_censored(np.asarray(groups[1]["time"]), 1 - np.asarray(groups[1]["event"]))
        res = st.logrank(a, b)
        assert abs(res.statistic ** 2 - chi2) < 1e-8 * max(1, chi2)
        result["source"] += " checked against scipy.stats.logrank"
    return result


def main():
    groups = generate(20261207)
    out = {
        "seed": 20261207,
        "scipy": scipy.__version__,
        "z": float(st.norm.ppf(0.975)),
        "groups": groups,
        "curves": [curve(g["time"], g["event"]) for g in groups],
        "logRankAll": logrank(groups),
        "logRankFirstTwo": logrank(groups[:2]),
        # Chi-square survival function values for the engine's own p-value code.
        "chiSquareSurvival": [
            {"x": x, "df": df, "p": float(st.chi2.sf(x, df))}
            for x, df in ((0.5, 1), (3.84, 1), (16.79, 1), (40.0, 1), (2.0, 2), (7.0, 3), (25.0, 4), (0.1, 5), (60.0, 10))
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "survival_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
