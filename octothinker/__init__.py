"""octothinker: make base language models ready for reinforcement learning on reasoning."""

__version__ = "0.1.0"
