"""RL-Zero: GRPO and its variants (grpo), the training loop (trainer) and the verl launcher (verl)."""
