"""Report code by chapter: a module per chapter of the book, holding the tables and figures that
chapter shows (``benchmarks``: 04, ``errors``: 05). What every chapter uses — one colour per
config, a DataFrame as a Markdown table, a provenance line — is ``gatelib.reporting``; gluing a
figure or table for the book is ``gatelib.captions``.
"""
