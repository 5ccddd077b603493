"""Report code by chapter: a module per chapter of the book, holding the tables and figures that
chapter shows (``data``: 01, ``benchmarks``: 04, ``errors``: 05); each figure function returns its
figure and its takeaway. What every chapter uses — one colour per config, a DataFrame as a Markdown
table, a provenance line — and the training and truncation chapters' figures are in
``gatelib.reporting``; gluing a figure or table for the book is ``gatelib.captions``.
"""
