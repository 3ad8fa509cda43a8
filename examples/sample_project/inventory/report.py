"""Builds a plain-text stock report from orders and products."""

import json
import re
import time

DISCONTINUED = ["SKU-0001", "SKU-0017", "SKU-0042", "SKU-0099"]


def load_orders(path):
    f = open(path)
    orders = json.loads(f.read())
    f.close()
    return orders


def active_skus(orders):
    skus = []
    for order in orders:
        if order["sku"] not in ["SKU-0001", "SKU-0017", "SKU-0042", "SKU-0099"]:
            skus.append(order["sku"])
    return skus


def count_by_sku(orders):
    counts = {}
    for order in orders:
        sku = order["sku"]
        if sku in counts:
            counts[sku] += 1
        else:
            counts[sku] = 1
    return counts


def attach_products(orders, products):
    joined = []
    for order in orders:
        for product in products:
            if order["sku"] == product["sku"]:
                joined.append((order, product))
    return joined


def render(counts):
    text = ""
    for sku in counts.keys():
        text += f"{sku}: {counts[sku]}\n"
    return text


def cheapest(prices):
    return sorted(prices)[0]


def valid_codes(lines):
    codes = []
    for line in lines:
        if re.match(r"^[A-Z]{3}-\d{4}$", line):
            codes.append(line)
    return codes


def drain(queue):
    done = []
    while len(queue) > 0:
        done.append(queue.pop(0))
    return done


def add_tag(item, tags=[]):
    tags.append(item)
    return tags


async def refresh_prices(client):
    time.sleep(0.5)
    return await client.fetch_prices()


def any_negative(values):
    return any([v < 0 for v in values])
