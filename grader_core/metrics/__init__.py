"""Trusted-side metrics for generated binary digits, one metric per module.

* :mod:`~grader_core.metrics.digit_classifier`: the classifier whose features define the spaces below
* :mod:`~grader_core.metrics.fid`: Fréchet distance (FID) in that feature space
* :mod:`~grader_core.metrics.kid`: kernel distance (KID) in that feature space
* :mod:`~grader_core.metrics.likelihood`: Bernoulli NLL in nats and bits per dimension, and its baseline
* :mod:`~grader_core.metrics.class_coverage`: predicted-class histogram and its entropy (mode collapse)
"""
