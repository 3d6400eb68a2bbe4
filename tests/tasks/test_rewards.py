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


def test_release_reward_variants_known_values():
    """The fork's reward_type variants (math_verifier.py): default, v2.wformat, v3/v4.repeatpenalty."""
    from octothinker.tasks.rewards import RewardConfig, reward

    loop = "so so so so so so so so so so so so so so so so so so so so so so so so so so"   # 5+ copies of "so so "
    texts = ["\\boxed{3}", "\\boxed{4}", "3", "\\boxed{3} \\boxed{3}", f"{loop} \\boxed{{3}}"]
    expected = {"default": [1.0, -1.0, -1.0, 1.0, 1.0],
                "v2.wformat": [1.0, -0.5, -1.0, -1.0, -1.0],
                "v3.repeatpenalty": [1.0, -1.0, -1.0, 1.0, -2.0],
                "v4.repeatpenalty": [1.0, -1.0, -1.0, -2.0, -2.0]}
    for variant, want in expected.items():
        got = [s.reward for s in reward(texts, ["3"] * len(texts), [False] * len(texts), RewardConfig(variant=variant))]
        assert got == want, variant


def test_release_repetition_matches_the_forks_regex():
    """Our linear-time loop check says what the fork's `(.{5,}?)\\1{4,}` says, on random short texts from
    small alphabets (where loops are common) and on the edges of its limits."""
    import random
    import re

    from octothinker.tasks.rewards import release_repetition

    pattern = re.compile(r"(.{5,}?)\1{4,}")
    rng = random.Random(0)
    texts = ["abcde" * 5, "abcde" * 4 + "abcd", "x" * 25, "x" * 24, "ab\n" * 20, "abcdefg" * 5, "line\n" + "hello" * 5]
    for _ in range(400):
        alphabet = rng.choice(["ab", "abc", "ab\n", "abcdef"])
        unit = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
        noise = lambda: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))  # noqa: E731
        texts.append(noise() + unit * rng.randint(1, 7) + noise())
    for text in texts:
        assert release_repetition(text) == bool(pattern.search(text)), repr(text)


class RecordingPool:
    """A verify pool that answers every question "no" and keeps what it was asked."""

    def __init__(self):
        self.asked = []

    def verify_many(self, pairs):
        self.asked.append(list(pairs))
        return [False] * len(pairs)


def test_task_answer_is_read_and_graded_in_the_configured_family():
    """`answer: task` extracts as evaluation does, in the reward's family: "18 eggs" is the number 18, a
    word answer stays a word and is settled without math-verify."""
    pool = RecordingPool()
    cfg = RewardConfig(answer="task", family="number")
    scored = reward(["The answer is 18 eggs.", "so 3 + 4 = 7", "The answer is Rug A.", "\\boxed{9}"],
                    ["18", "7", "Rug B", "8"], [False] * 4, cfg, pool)
    assert [s.extracted for s in scored] == ["18", "7", "Rug A", "9"]
    assert [s.reward for s in scored] == [1.0, 1.0, -1.0, -1.0]
    assert pool.asked == []  # every verdict was decidable without the pool
    math = reward(["The answer is 18 eggs."], ["18"], [False], RewardConfig(answer="task"), pool)
    assert math[0].extracted == "18 eggs"


def test_hard_answers_go_to_the_pool_given():
    """What only math-verify can settle is asked of the caller's pool (its workers and time limit), not
    of a default one."""
    pool = RecordingPool()
    scored = reward(["so \\boxed{\\sqrt{4}}"], ["2"], [False], RewardConfig(), pool)
    assert pool.asked == [[("2", "\\sqrt{4}")]]
    assert scored[0].reward == -1.0 and not scored[0].correct and scored[0].extracted == "\\sqrt{4}"


def test_repetition_needs_the_count_and_the_length():
    """Four copies of an 8-word sequence loop; three do not, however long the text around them."""
    eight = "one two three four five six seven eight "
    assert has_repetition(eight * 4)
    assert not has_repetition(eight * 3 + " ".join(f"w{i}" for i in range(40)))
    assert not has_repetition("a b c d e f g " * 4)  # too short for four 8-word copies
