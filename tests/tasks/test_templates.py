import pytest

from octothinker.tasks.templates import TEMPLATES, TemplateError, get_template


def test_packaged_templates_render_the_question():
    for name, template in TEMPLATES.items():
        if template.chat:
            continue
        text = template.render("What is $\\frac{1}{2} + 1$?")
        assert "What is $\\frac{1}{2} + 1$?" in text
        assert "{question}" not in text
        assert template.stop
    assert TEMPLATES["complex"].render("Q").rstrip().endswith("step by step.")
    assert "\\boxed{}" in TEMPLATES["simple"].render("Q")
    assert TEMPLATES["qa"].render("Q") == "Question: Q\nAnswer: Let's think step by step."


def test_custom_template_and_missing_slot():
    assert get_template("Solve: {question}\nSolution:").render("1+1") == "Solve: 1+1\nSolution:"
    with pytest.raises(TemplateError, match="slot"):
        get_template("no slot here")


class _ChatTokenizer:
    """The two things a chat template needs of a tokenizer: its template and BOS handling."""
    chat_template = "ChatML"
    bos_token, bos_token_id = "<s>", 1

    def __init__(self, adds_bos: bool):
        self.adds_bos = adds_bos

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert not tokenize and add_generation_prompt
        return "<s>" + "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) \
            + "<|im_start|>assistant\n"

    def __call__(self, text):
        return {"input_ids": ([1] if self.adds_bos else []) + [5]}


def test_chat_template_renders_the_user_turn_with_the_models_own_template():
    chat = get_template("chat")
    with pytest.raises(TemplateError, match="tokenizer"):
        chat.render("Q")
    with pytest.raises(TemplateError, match="no chat template"):
        chat.bind(object(), "my-model")
    text = chat.bind(_ChatTokenizer(adds_bos=False)).render("What is 2+2?")
    assert text.startswith("<s><|im_start|>user\nWhat is 2+2?\nPlease reason step by step")
    assert "\\boxed{}" in text and text.endswith("<|im_start|>assistant\n")
    # a tokenizer that adds BOS itself would otherwise see it twice
    assert chat.bind(_ChatTokenizer(adds_bos=True)).render("Q").startswith("<|im_start|>user")
    assert get_template("complex").bind(None) is get_template("complex")


def test_a_template_from_a_file(tmp_path):
    path = tmp_path / "orz.txt"
    path.write_text("A conversation between User and Assistant.\nUser: {question}\nAssistant: <think>\n")
    template = get_template(str(path))
    assert template.name == f"file {path}"
    assert template.render("1+1?") == "A conversation between User and Assistant.\nUser: 1+1?\nAssistant: <think>"
    (tmp_path / "noslot.txt").write_text("User: a question\n")
    with pytest.raises(TemplateError, match="noslot.txt: no \\{question\\} slot"):
        get_template(str(tmp_path / "noslot.txt"))
    with pytest.raises(TemplateError, match="template file .*missing.txt: No such file"):
        get_template(str(tmp_path / "missing.txt"))
