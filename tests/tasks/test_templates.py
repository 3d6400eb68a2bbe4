import pytest

from octothinker.tasks.templates import TEMPLATES, TemplateError, get_template


def test_packaged_templates_render_the_question():
    for name, template in TEMPLATES.items():
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
