"""The published corpora's formats: each record becomes the document its format says, or a RecordError
naming the field (never a stringified list)."""

import pytest

from octothinker.data.formats import FORMATS, RecordError, parse_path, resolve, untag
from octothinker.data.config import SourceSpec

R1_TRACE = "<think>\nHugo has 3 + 5 = 8 coins.\n</think>\n\nHugo has $\\boxed{8}$ coins."


def test_path_syntax():
    assert parse_path("messages[role=assistant][-1].content") == ["messages", ("role", "assistant"), -1, "content"]
    rec = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a1"},
                        {"role": "assistant", "content": "a2"}], "meta": {"n": 3}}
    assert resolve(rec, "messages[role=assistant][-1].content") == "a2"
    assert resolve(rec, "messages[0].content") == "q"
    assert resolve(rec, "meta.n") == 3
    with pytest.raises(RecordError, match="'messages\\[5\\].content' is missing"):
        resolve(rec, "messages[5].content")
    with pytest.raises(ValueError, match="neither an index nor key=value"):
        parse_path("messages[last]")


def test_untag_is_one_rule_for_every_long_cot_corpus():
    assert untag(R1_TRACE) == "Hugo has 3 + 5 = 8 coins.\n\nHugo has $\\boxed{8}$ coins."
    am = "<think>\nreason\n</think>\n<answer>\nThe answer is \\boxed{8}.\n</answer>"
    assert untag(am) == "reason\n\nThe answer is \\boxed{8}."
    assert untag("plain solution") == "plain solution"
    assert untag("<think>cut off in the middle") == "cut off in the middle"


def test_openr1_takes_the_first_trace_its_math_verify_marks_correct():
    rec = {"problem": "Hugo has 3 coins and finds 5. How many?", "solution": "8", "answer": "8",
           "generations": ["<think>wrong</think> 9", R1_TRACE], "correctness_math_verify": [False, True],
           "messages": []}
    doc = FORMATS["openr1-math"].document(rec)
    assert doc == ("Question: Hugo has 3 coins and finds 5. How many?\nAnswer: Hugo has 3 + 5 = 8 coins.\n\n"
                   "Hugo has $\\boxed{8}$ coins.")
    with pytest.raises(RecordError) as err:
        FORMATS["openr1-math"].document({**rec, "correctness_math_verify": [False, False]})
    assert err.value.reason == "unverified"


def test_am_distilled_takes_the_assistant_turn():
    rec = {"messages": [{"role": "user", "content": "What is 2+2?", "info": {"source": "x"}},
                        {"role": "assistant", "content": "<think>2+2=4</think>\n<answer>\\boxed{4}</answer>",
                         "info": {"source": "x"}}]}
    assert FORMATS["am-distilled"].document(rec) == "Question: What is 2+2?\nAnswer: 2+2=4\n\n\\boxed{4}"


def test_chat_formats_keep_every_turn():
    turns = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
             {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "2+2?"},
             {"role": "assistant", "content": "4"}]
    expected = "System: Be brief.\nUser: Hi\nAssistant: Hello\nUser: 2+2?\nAssistant: 4"
    assert FORMATS["tulu3-sft"].document({"prompt": "Hi", "messages": turns, "constraints": []}) == expected
    assert FORMATS["ultrachat"].document({"prompt": "Hi", "messages": turns}) == expected
    assert FORMATS["wildchat"].document({"conversation": turns, "model": "gpt-4"}) == expected
    with pytest.raises(RecordError, match="'messages' has no user and assistant turn"):
        FORMATS["tulu3-sft"].document({"messages": turns[:2]})


def test_short_qa_formats():
    omi = {"problem": "1+1?", "generated_solution": "1+1=2, so \\boxed{2}.", "expected_answer": "2"}
    assert FORMATS["openmathinstruct2"].document(omi) == "Question: 1+1?\nAnswer: 1+1=2, so \\boxed{2}."
    assert FORMATS["qa"].document({"question": "q", "answer": 5}) == "Question: q\nAnswer: The answer is \\boxed{5}."
    assert FORMATS["megamath-qa"].document({"text": "Q: x\nA: y"}) == "Q: x\nA: y"


def test_a_list_or_dict_where_text_is_expected_is_never_stringified():
    src = SourceSpec(name="openr1", path="x.parquet", format="qa", weight=1,
                     fields={"question": "problem", "solution": "generations"})
    with pytest.raises(RecordError, match="field 'generations' is a list, not text") as err:
        src.document({"problem": "q", "generations": ["Hugo has 8 coins.", "…"]})
    assert err.value.reason == "wrong_type"
    with pytest.raises(RecordError, match="field 'answer' is a dict, not text"):
        FORMATS["qa"].document({"question": "q", "answer": {"value": 3}})
    with pytest.raises(RecordError, match="field 'question' is empty"):
        FORMATS["qa"].document({"question": "  ", "answer": "3"})


def test_sources_check_their_format_and_fields():
    with pytest.raises(ValueError, match="unknown format 'openr1'"):
        SourceSpec(name="a", path="x", format="openr1", weight=1)
    with pytest.raises(ValueError, match="format openr1-math has no part 'solution'"):
        SourceSpec(name="a", path="x", format="openr1-math", weight=1, fields={"solution": "solution"})
    with pytest.raises(ValueError, match="style: format tulu3-sft is not a QA format"):
        SourceSpec(name="a", path="x", format="tulu3-sft", weight=1, style="long")
    assert SourceSpec(name="a", path="x", format="am-distilled", weight=1).cot == "long"
