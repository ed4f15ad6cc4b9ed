"""Writes an MLServer model repository serving the demo's production model (sepsis-alert 1.4.0) as a
scikit-learn LogisticRegression with the same weights and bias, for the gateway benchmark's comparison.

    python make_model.py <demo model json> <out dir> <http port> <grpc port> <metrics port>
"""
import json
import os
import sys

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

src, out, http_port, grpc_port, metrics_port = sys.argv[1:6]
with open(src) as f:
    spec = json.load(f)
model = LogisticRegression()
model.classes_ = np.array([0, 1])
model.coef_ = np.array([spec["weights"]], dtype=np.float64)
model.intercept_ = np.array([spec["bias"]], dtype=np.float64)
model.n_features_in_ = len(spec["features"])

os.makedirs(os.path.join(out, spec["name"]), exist_ok=True)
joblib.dump(model, os.path.join(out, spec["name"], "model.joblib"))
with open(os.path.join(out, spec["name"], "model-settings.json"), "w") as f:
    json.dump(
        {
            "name": spec["name"],
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib", "version": spec["version"]},
        },
        f,
    )
# MLServer's defaults, except the ports, debug logging off, and in-process inference.
with open(os.path.join(out, "settings.json"), "w") as f:
    json.dump(
        {
            "http_port": int(http_port),
            "grpc_port": int(grpc_port),
            "metrics_port": int(metrics_port),
            "debug": False,
            # In-process inference: the parallel worker pool fails to start with uvloop 0.23 (get_event_loop
            # in a fresh process), and for a model this small in-process is also the faster setting.
            "parallel_workers": 0,
        },
        f,
    )
# The check the bench relies on: this model scores like the demo's (printed, compared by the caller).
x = np.array([[(k - 3.5) / 4 for k in range(len(spec["features"]))]], dtype=np.float32)
print(json.dumps({"check": float(model.predict_proba(x)[0, 1])}))
