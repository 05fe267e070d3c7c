"""TorchServe handler for the real-server integration tests (no serialized model needed).

Function entry point: ts/model_loader.py calls handle(None, context) once at load time, then
handle(batch, context) with one entry per request in the batch. The cost grows with the batch:
REPS (default 8, env INFERLINE_TEST_REPS) multiplications of a 256x256 matrix PER ITEM, on one
CPU thread, so a batch of 8 takes about 8x the compute of a batch of 1.

A request body may be JSON {"reps": n} to change the per-item work (default REPS).
The response for each item is JSON {"batch": <items in this batch>, "reps": n, "pid": <worker>,
"computeMs": <time this whole batch took in the handler>, "checksum": <float>}.
"""
import os
import time

import torch

REPS = int(os.environ.get("INFERLINE_TEST_REPS", "8"))
N = 256
_state = {}


def _reps(row):
    body = row.get("body") if isinstance(row, dict) else None
    if body is None and isinstance(row, dict):
        body = row.get("data")
    if isinstance(body, dict):
        try:
            return max(0, min(1000, int(body.get("reps", REPS))))
        except (TypeError, ValueError):
            return REPS
    return REPS


def handle(data, context):
    if data is None:  # load-time call
        torch.set_num_threads(1)
        g = torch.Generator().manual_seed(0)
        m = torch.rand((N, N), generator=g) / N
        _state["m"] = m
        for _ in range(3 * REPS):  # warm-up: the first multiplications in a process are slower
            torch.matmul(m, m)
        return None
    m = _state["m"]
    n = len(data)
    t0 = time.perf_counter()
    items = []
    for row in data:
        reps = _reps(row)
        x = m
        for _ in range(reps):
            x = torch.matmul(x, m)
        items.append((reps, float(x.sum())))
    ms = (time.perf_counter() - t0) * 1000.0
    pid = os.getpid()
    # must return exactly one result per request in the batch
    return [{"batch": n, "reps": r, "pid": pid, "computeMs": ms, "checksum": c} for r, c in items]
