"""The segment-count question in pandas, for the segment-count benchmark scenario (SegmentCountScenario.cs).

Reads the same generated CSV files the app imports (once; a pickle of the parsed frames is kept beside them, so later
runs load fast), then answers the question once per threshold given (the first is the warm-up) and prints one JSON
object: load time, and per run the count and the seconds spent on the question alone (loading excluded).

The question: active customers in the given regions who (spent more than THRESHOLD in the last SPEND_DAYS days or
placed at least MIN_ORDERS orders in the last ORDER_DAYS days), did NOT order in the last RECENT_DAYS days, and
bought CATEGORY at least once. "In the last N days" is order_date's day between today - N and today (inclusive), as
the app compiles it; customers without orders have spent 0, 0 orders and no last order.
"""

import argparse
import json
import os
import pickle
import resource
import sys
import time

import numpy as np
import pandas as pd


def load(customers_csv, orders_csv):
    cache = orders_csv + ".pandas.pkl"
    stamp = [os.path.getmtime(customers_csv), os.path.getmtime(orders_csv), pd.__version__]
    if os.path.exists(cache):
        with open(cache, "rb") as f:
            saved = pickle.load(f)
        if saved["stamp"] == stamp:
            return saved["customers"], saved["orders"], "pickle"
    customers = pd.read_csv(
        customers_csv,
        usecols=["customer_id", "region", "is_active"],
        dtype={"customer_id": "int64", "region": "category", "is_active": "bool"},
    )
    orders = pd.read_csv(
        orders_csv,
        usecols=["customer_id", "order_date", "amount", "category"],
        dtype={"customer_id": "int64", "order_date": "str", "amount": "float64", "category": "category"},
    )
    orders["order_date"] = pd.to_datetime(orders["order_date"], format="%Y-%m-%d %H:%M:%S")
    with open(cache + ".partial", "wb") as f:
        pickle.dump({"stamp": stamp, "customers": customers, "orders": orders}, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(cache + ".partial", cache)
    return customers, orders, "csv"


def count(customers, orders, q, threshold):
    today = pd.Timestamp(q["today"])
    end = today + pd.Timedelta(days=1)  # order_date's day <= today
    # The orders of the active customers in the regions (as the SQL baseline joins them), then one group-by for the
    # per-customer facts. Only customers with orders can have bought the category, so no one the rule matches is lost.
    chosen = customers.loc[customers["region"].isin(q["regions"]) & customers["is_active"], "customer_id"]
    o = orders[orders["customer_id"].isin(chosen)]
    date = o["order_date"]
    in_spend = (date >= today - pd.Timedelta(days=q["spendDays"])) & (date < end)
    in_orders = (date >= today - pd.Timedelta(days=q["orderDays"])) & (date < end)
    facts = pd.DataFrame({
        "customer_id": o["customer_id"],
        "spent": o["amount"].where(in_spend, 0.0),
        "orders": in_orders,
        "last": date,
        "bought": o["category"] == q["category"],
    }).groupby("customer_id", sort=False).agg(
        spent=("spent", "sum"), orders=("orders", "sum"), last=("last", "max"), bought=("bought", "any"))
    days_since = (today - facts["last"].dt.floor("D")).dt.days
    match = (((facts["spent"] > threshold) | (facts["orders"] >= q["minOrders"]))
             & ~(days_since < q["recentDays"])
             & facts["bought"])
    return int(match.sum())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", required=True)
    parser.add_argument("--orders", required=True)
    parser.add_argument("--question", required=True, help="JSON: today, regions, spendDays, orderDays, minOrders, recentDays, category")
    parser.add_argument("--thresholds", required=True, help="comma-separated spend thresholds, one run each (the first is the warm-up)")
    args = parser.parse_args()
    q = json.loads(args.question)

    started = time.perf_counter()
    customers, orders, source = load(args.customers, args.orders)
    load_seconds = time.perf_counter() - started

    runs = []
    for text in args.thresholds.split(","):
        threshold = float(text)
        started = time.perf_counter()
        n = count(customers, orders, q, threshold)
        runs.append({"threshold": text, "count": n, "seconds": time.perf_counter() - started})

    json.dump({
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "loadedFrom": source,
        "loadSeconds": load_seconds,
        "orders": int(len(orders)),
        "customers": int(len(customers)),
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "runs": runs,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
