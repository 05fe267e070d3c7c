"""TorchServe handler whose compute is a sleep: a batch of k requests takes
L(k) = BASE_MS + PER_ITEM_MS * k milliseconds (env INFERLINE_SLEEP_BASE_MS and
INFERLINE_SLEEP_PER_ITEM_MS, default 4 and 1). No torch, no serialized model.

For the replay tests against the real server: batching, queueing and HTTP are TorchServe's own,
while the service time is known and costs no CPU. Each item's answer is JSON
{"batch": <items in this batch>, "sleptMs": <the batch's sleep>}.
"""
import os
import time

BASE_MS = float(os.environ.get("INFERLINE_SLEEP_BASE_MS", "4"))
PER_ITEM_MS = float(os.environ.get("INFERLINE_SLEEP_PER_ITEM_MS", "1"))


def handle(data, context):
    if data is None:  # load-time call
        return None
    n = len(data)
    ms = BASE_MS + PER_ITEM_MS * n
    time.sleep(ms / 1000.0)
    # must return exactly one result per request in the batch
    return [{"batch": n, "sleptMs": ms} for _ in range(n)]
