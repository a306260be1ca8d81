"""What runs inside the endpoint: score.py, request decoding, the shared preprocessing
(``data_science.preprocessing``), ONNX Runtime inference and the model data collector.

Nothing here imports the training stack, experiment tracking or the cloud SDK: the bundle ships this
package, ``data_science/preprocessing.py`` and the model, and its conda file lists exactly
what they import.
"""

# score.py's own limit on a model run (``SCORE_TIMEOUT_S`` overrides it): past it, a 503
# with the reason. A deployment's request timeout is derived from it (production.deployment).
DEFAULT_SCORE_TIMEOUT_S = 10.0
# What a monitor compares of each request's images, one number per image (Azure ML's drift
# and data-quality signals read scalar columns, not a list of 784 pixels): the share of the
# image that is ink and its mean brightness (0-1). Both move when the digits change
# (another script, another scanner); the collector writes them (production.serving.collect).
MONITORED_INPUTS = ("ink_share", "mean_intensity")
