"""scikit-learn's KMeans on the app's own feature matrix, for the kmeans benchmark scenario (KMeansScenario.cs).

Loads the matrix once (float32, row-major, written by the scenario from the features the app clusters, scaled by the
app's own preparation), prints one JSON line describing itself, then answers one request per line on standard input:

    fit <seed>    KMeans(n_clusters=K, init="k-means++", n_init=N_INIT, max_iter=MAX_ITER, random_state=seed,
                  algorithm="lloyd").fit(X); answers one JSON line: the fit's own seconds, inertia_ (squared distances
                  to the final centres), the within-cluster sum of squares around the members' means (how the app
                  measures its clustering, so the two figures compare alike), iterations and cluster sizes
    quit          ends

Only the fit is timed here; the scenario times the whole request (a line each way on a pipe) as the baseline's run.
"""

import argparse
import json
import resource
import sys
import time

import numpy as np
import sklearn
import threadpoolctl
from sklearn.cluster import KMeans


def within_cluster_sum_of_squares(x, labels, k):
    """Sum of squared distances of the rows to their cluster's mean, in float64 (as ClusterQuality.Measure does)."""
    total = 0.0
    for c in range(k):
        members = x[labels == c].astype(np.float64)
        if len(members) > 0:
            total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--matrix", required=True, help="float32 values, row-major, rows x features")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--features", type=int, required=True)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--n-init", type=int, required=True)
    parser.add_argument("--max-iter", type=int, required=True)
    args = parser.parse_args()

    x = np.fromfile(args.matrix, dtype=np.float32)
    if x.size != args.rows * args.features:
        raise SystemExit(f"{args.matrix} holds {x.size} values, not {args.rows} x {args.features}")
    x = x.reshape(args.rows, args.features)

    pools = threadpoolctl.threadpool_info()
    print(json.dumps({
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "threads": {p.get("user_api", "?") + ":" + p.get("internal_api", "?"): p.get("num_threads") for p in pools},
        "rows": int(x.shape[0]),
        "features": int(x.shape[1]),
    }), flush=True)

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] != "fit" or len(words) != 2:
            print(json.dumps({"error": f"unknown request {line.strip()!r}"}), flush=True)
            continue
        seed = int(words[1])
        model = KMeans(n_clusters=args.k, init="k-means++", n_init=args.n_init, max_iter=args.max_iter,
                       random_state=seed, algorithm="lloyd")
        started = time.perf_counter()
        model.fit(x)
        seconds = time.perf_counter() - started
        labels = model.labels_
        print(json.dumps({
            "seed": seed,
            "seconds": seconds,
            "inertia": float(model.inertia_),
            "wcss": within_cluster_sum_of_squares(x, labels, args.k),
            "iterations": int(model.n_iter_),
            "sizes": np.bincount(labels, minlength=args.k).tolist(),
            "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }), flush=True)


if __name__ == "__main__":
    main()
