"""Mid-training: a stable stage at constant learning rate, then decay branches (warmup-stable-decay)."""
