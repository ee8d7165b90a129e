"""The linear-algebra engine: pure, array-generic maths with no knowledge of the public API.

Modules here may import each other, :mod:`renyimi._optional` and the array libraries; nothing here
imports from the estimators (``renyimi._plan``, ``renyimi._compute``) or the toolkit above them.

- :mod:`.arrays` — array-library detection, dtype and device helpers;
- :mod:`.gram` — squared distances and Gram normalisation (eq. 17, eq. 19);
- :mod:`.numba_kernels` — compiled CPU Gram kernels (optional numba);
- :mod:`.eigen` — eigensolvers, their policy and concurrency (thread limits);
- :mod:`.spectral` — Rényi entropy of a trace-one matrix from its spectrum (eq. 18).
"""
