"""Evaluation: zero-shot, probes, retrieval, baselines, plots and reports."""
