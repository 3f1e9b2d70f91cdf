"""The untrusted side: a small program that runs *inside* the sandbox.

It imports the student's submission, executes the probe plan the trusted side wrote, and streams
each probe's outputs back as framed JSON lines on a private copy of stdout. It never sees expected
answers, thresholds or reference outputs, and it never decides a score.

This package is mounted into the sandbox on its own, so it must stay self-contained: relative
imports only, and nothing beyond the standard library, numpy, PyYAML, sympy and torch.
"""
