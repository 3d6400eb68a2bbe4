"""The study report: mid-training curves, the model x benchmark table, RL dynamics, the probe table."""
