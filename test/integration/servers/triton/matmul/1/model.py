"""Triton python-backend model for the real-server integration tests.

Batching model (max_batch_size 8, dynamic batching): for every item of every request in the
batch it multiplies a 256x256 matrix REPS times with numpy (REPS = 8, or the model-config
parameter "reps" as a string_value), so the execution time grows with the batch size.
OUTPUT0 = 2 * INPUT0 (FP32, dims [4]); OUTPUT1 = the stub's pid (INT64, dims [1]), so a test can
see which instance served a request. Each instance is a separate stub process.
"""
import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils

N = 256


class TritonPythonModel:
    def initialize(self, args):
        reps = 8
        try:
            params = json.loads(args["model_config"]).get("parameters", {})
            if "reps" in params:
                reps = int(params["reps"]["string_value"])
        except Exception:  # noqa: BLE001 - a bad parameter falls back to the default
            pass
        self.reps = reps
        rng = np.random.default_rng(0)
        self.m = (rng.random((N, N)) / N).astype(np.float32)
        for _ in range(3):  # warm-up: the first multiplications in a process are much slower
            self._work()

    def _work(self):
        y = self.m
        for _ in range(self.reps):
            y = y @ self.m
        return y

    def execute(self, requests):
        responses = []
        pid = os.getpid()
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            for _ in range(x.shape[0]):  # per item of this request
                self._work()
            out0 = pb_utils.Tensor("OUTPUT0", (x * 2).astype(np.float32))
            out1 = pb_utils.Tensor("OUTPUT1", np.full((x.shape[0], 1), pid, dtype=np.int64))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out0, out1]))
        return responses

    def finalize(self):
        pass
