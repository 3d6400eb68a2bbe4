"""RL-Zero: prompt templates shared with evaluation (GRPO arrives with the RL stage)."""
