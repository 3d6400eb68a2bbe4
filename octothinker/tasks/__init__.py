"""Tasks: what a benchmark is (registry, problems, prompts) and how a completion is scored (extraction,
grading, rewards). One layer under evaluation, RL and the probe, so that a completion has one verdict
everywhere. It imports nothing above `runs`."""
