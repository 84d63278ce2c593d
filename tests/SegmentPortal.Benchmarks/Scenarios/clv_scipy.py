"""BG/NBD and Gamma-Gamma fitted with NumPy and SciPy, for the clv benchmark scenario (ClvScenario.cs).

A plain, vectorised implementation of the same likelihoods the app maximises:

    BG/NBD (Fader, Hardie & Lee 2005, eq. 6), per customer with x repeat purchases, recency t_x and age T:
        ln L = ln G(r+x) - ln G(r) + r ln a  +  ln G(a+b) + ln G(b+x) - ln G(b) - ln G(a+b+x)
               + ln( (alpha+T)^-(r+x) + [x > 0] a/(b+x-1) (alpha+t_x)^-(r+x) )
    Gamma-Gamma (Fader & Hardie 2013), per repeat customer with x repeat purchases of mean value m:
        ln L = ln G(px+q) - ln G(px) - ln G(q) + q ln g + (px-1) ln m + px ln x - (px+q) ln(x m + g)

both maximised with scipy.optimize.minimize(method="L-BFGS-B") over the logarithms of the parameters (so they stay
positive), gradients by finite differences (SciPy's default), starting from 1 for every parameter, stopping when the
log-likelihood changes by less than 1e-12 of itself.

Loads the summary once (float64, written by the scenario from the summary the app's job reads through the query layer),
prints one JSON line describing itself, then answers one request per line on standard input:

    fit     fits both models; answers one JSON line with the fits' own seconds, the parameters and log-likelihoods
    quit    ends
"""

import argparse
import json
import resource
import sys
import time

import numpy as np
import scipy
from scipy.optimize import minimize
from scipy.special import gammaln


def bgnbd_negative_ll(log_params, x, tx, t):
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return -np.sum(a1 + a2 + np.logaddexp(a3, a4))


def gamma_gamma_negative_ll(log_params, x, m):
    p, q, g = np.exp(log_params)
    px = p * x
    ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + g)
    return -np.sum(ll)


def fit(function, start, *data):
    # ftol tighter than SciPy's default (2.2e-9 of a log-likelihood in the millions stops ~0.01 short, leaving correlated
    # parameters 0.1% apart along their ridge), so the comparison at 0.1% is about the models, not the stopping rule.
    result = minimize(function, np.log(start), args=data, method="L-BFGS-B", options={"ftol": 1e-12, "maxiter": 1000})
    return np.exp(result.x).tolist(), -float(result.fun), int(result.nit), bool(result.success)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--summary", required=True, help="float64 x, t_x, T for every customer, one array after another")
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--repeaters", required=True, help="float64 x, mean repeat spend for every repeat customer, one array after another")
    parser.add_argument("--repeat-customers", type=int, required=True)
    args = parser.parse_args()

    summary = np.fromfile(args.summary, dtype=np.float64).reshape(3, args.customers)
    x, tx, t = summary[0], summary[1], summary[2]
    repeaters = np.fromfile(args.repeaters, dtype=np.float64).reshape(2, args.repeat_customers)
    rx, rm = repeaters[0], repeaters[1]

    print(json.dumps({
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "customers": int(x.size),
        "repeatCustomers": int(rx.size),
    }), flush=True)

    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command != "fit":
            print(json.dumps({"error": f"unknown request {command!r}"}), flush=True)
            continue
        try:
            started = time.perf_counter()
            bgnbd, bgnbd_ll, bgnbd_iterations, bgnbd_ok = fit(bgnbd_negative_ll, [1.0, 1.0, 1.0, 1.0], x, tx, t)
            gg, gg_ll, gg_iterations, gg_ok = fit(gamma_gamma_negative_ll, [1.0, 1.0, 1.0], rx, rm)
            seconds = time.perf_counter() - started
            print(json.dumps({
                "seconds": seconds,
                "bgnbd": bgnbd, "bgnbdLogLikelihood": bgnbd_ll, "bgnbdIterations": bgnbd_iterations, "bgnbdConverged": bgnbd_ok,
                "gammaGamma": gg, "gammaGammaLogLikelihood": gg_ll, "gammaGammaIterations": gg_iterations, "gammaGammaConverged": gg_ok,
                "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }), flush=True)
        except Exception as error:  # answer, so the scenario reports it instead of waiting
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)


if __name__ == "__main__":
    main()
