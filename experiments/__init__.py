"""The experiments: one package per question, run by make_experiments.py."""
