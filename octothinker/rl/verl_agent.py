"""verl's single-turn agent loop with stop strings, for `octo rl --engine verl`.

verl 0.9.1 builds its rollout's sampling parameters from temperature, top-p and top-k alone: a recipe's
stop strings (`rl.stop`; the release's fork stopped vLLM at "User:", "Assistant:", "Question:" and
"Answer:", in training and validation alike) cannot be set through its configuration. Its agent loops
can be: the launcher registers this loop (`agent_loops.yaml`, `rollout.agent.default_agent_loop`), which
adds them to every request. Imported by verl's rollout workers only, where verl is installed.
"""

from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop

from octothinker.rl.verl import with_stop


class StopStringsAgentLoop(SingleTurnAgentLoop):
    def __init__(self, *args, stop=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.stop = list(stop)

    async def run(self, sampling_params, **kwargs):
        return await super().run(with_stop(sampling_params, self.stop), **kwargs)
