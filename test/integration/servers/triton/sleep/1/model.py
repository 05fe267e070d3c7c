"""Triton python-backend model whose compute is a sleep: a batch of k rows takes
L(k) = base_ms + per_item_ms * k milliseconds (model-config parameters "base_ms" and
"per_item_ms", default 4 and 1), whatever the rows hold.

For the replay tests against the real server: batching, queueing and HTTP are Triton's own, while
the service time is known and costs no CPU, so several servers and the harness share two cores.
OUTPUT0 = 2 * INPUT0 (FP32, dims [4]).
"""
import json
import time

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        self.base_ms = 4.0
        self.per_item_ms = 1.0
        try:
            params = json.loads(args["model_config"]).get("parameters", {})
            if "base_ms" in params:
                self.base_ms = float(params["base_ms"]["string_value"])
            if "per_item_ms" in params:
                self.per_item_ms = float(params["per_item_ms"]["string_value"])
        except Exception:  # noqa: BLE001 - a bad parameter falls back to the default
            pass

    def execute(self, requests):
        inputs = [pb_utils.get_input_tensor_by_name(r, "INPUT0").as_numpy() for r in requests]
        rows = sum(x.shape[0] for x in inputs)  # k: the batch's rows over all its requests
        time.sleep((self.base_ms + self.per_item_ms * rows) / 1000.0)
        return [
            pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", (x * 2).astype(np.float32))])
            for x in inputs
        ]

    def finalize(self):
        pass
