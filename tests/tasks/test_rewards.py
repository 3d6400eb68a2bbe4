from octothinker.tasks.rewards import RewardConfig, has_repetition, reward


def test_study_reward_plus_minus_one_and_validation_zero_one():
    comps = ["so \\boxed{7}", "so \\boxed{8}", "no box, the answer is 7", "\\boxed{\\frac{14}{2}}"]
    golds = ["7", "7", "7", "7"]
    pm = reward(comps, golds, [False] * 4, RewardConfig())
    assert [s.reward for s in pm] == [1.0, -1.0, -1.0, 1.0]
    assert [s.correct for s in pm] == [True, False, False, True]
    zo = reward(comps, golds, [False] * 4, RewardConfig(scheme="01"))
    assert [s.reward for s in zo] == [1.0, 0.0, 0.0, 1.0]


def test_format_repetition_and_overlong_penalties():
    cfg = RewardConfig(format_penalty=-1.0, repetition_penalty=-2.0, overlong_penalty=-1.5)
    loop = "I add one more and check again " * 6 + "\\boxed{7}"
    s = reward(["\\boxed{7} or \\boxed{7}", loop, "\\boxed{7}", "\\boxed{7}"], ["7"] * 4, [False, False, False, True], cfg)
    assert [x.reward for x in s] == [-1.0, -2.0, 1.0, -1.5]
    assert s[0].boxes == 2 and s[1].repeated


def test_repetition_detector():
    assert has_repetition("a b c d e f g h " * 4)
    assert not has_repetition(" ".join(str(i) for i in range(100)))
