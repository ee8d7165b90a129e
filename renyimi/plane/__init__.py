r"""Information planes: where every layer of a network sits, in bits, while it trains.

A hidden layer :math:`T` of a network with input :math:`X` and output variable :math:`Y` is the point

.. math:: \big(\hat I(X;T),\ \hat I(T;Y)\big)

of the information plane (Definitions 1-2 of [1]_): the *input MI* and the *output MI*. For an
autoencoder :math:`Y` is the reconstruction :math:`X'`; for a classifier it is the labels.
:class:`InformationPlane` measures these points with the matrix-based Rényi estimator [2]_ (every
Gram matrix and entropy computed once per measurement), averages several evaluation batches per
training step, records each layer's activation variance (the paper's Fig. 8), and keeps a tidy
history that can be smoothed, subsampled, saved, plotted (:mod:`renyimi.plotting`) and scored against
the theory of autoencoders (:mod:`renyimi.theory`).

It is framework-agnostic: activations may be NumPy, CuPy or torch arrays (computations stay in their
library and on their device; only Python floats are stored). With torch,
:meth:`InformationPlane.record_model` captures the activations with forward hooks
(:mod:`renyimi.capture`).

References
----------
.. [1] N. I. Tapia and P. A. Estévez, "On the information plane of autoencoders," in Proc. IJCNN, 2020.
.. [2] L. G. Sánchez Giraldo, M. Rao and J. C. Príncipe, "Measures of entropy from data using infinitely
   divisible kernels," IEEE Trans. Inf. Theory 61(1), 2015.

Layout: :mod:`.core` (the :class:`InformationPlane` class: measuring and recording),
:mod:`.measurement` (:class:`Measurement`, :class:`PlaneArrays`), :mod:`.history` (running
statistics per step, :func:`hann_smooth`, :func:`log_spaced_indices`) and :mod:`.storage` (JSON files).
"""

from .core import InformationPlane
from .history import hann_smooth, log_spaced_indices
from .measurement import Measurement, PlaneArrays

__all__ = ["InformationPlane", "Measurement", "PlaneArrays", "hann_smooth", "log_spaced_indices"]
