"""Evaluation: ground-truth looks, classical baselines, image metrics, temporal flicker and the CLI."""
