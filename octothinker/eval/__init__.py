"""Evaluation on the 13 math benchmarks of the OctoThinker study: few-shot and zero-shot."""
