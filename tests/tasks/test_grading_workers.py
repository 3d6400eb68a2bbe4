"""What runs inside a grading worker, run here in-process (in a worker process it is out of sight of
coverage and of mutation testing): math-verify's verdict and readability checks, the worker's request
loop, and the pool's readability of gold answers."""

import logging
import math
import multiprocessing as mp
import signal
import socket
import sys
import warnings

import math_verify
import pytest

from octothinker.tasks.grading import VerifyPool, _readable_worker, _serve, _verify_worker


@pytest.mark.parametrize("gold, pred, verdict", [
    ("\\frac{1}{2}", "0.5", True),     # math-verify's equivalence, gold first
    ("x+1", "1+x", True),
    ("\\frac{1}{2}", "0.6", False),    # a near miss
    ("3", "", False),                  # nothing to read on one side is a wrong answer
    ("", "3", False),
])
def test_verify_worker_grades_equivalent_answers_equal_and_others_wrong(gold, pred, verdict):
    assert _verify_worker(gold, pred) is verdict


def raise_malformed(*args, **kwargs):
    raise ValueError("malformed LaTeX")


def test_a_math_verify_error_grades_the_answer_wrong_and_the_answer_unreadable(monkeypatch):
    # which inputs make math-verify raise depends on its version; the contract is what happens when it does
    monkeypatch.setattr(math_verify, "parse", raise_malformed)
    assert _verify_worker("\\frac{1}{2}", "0.5") is False
    assert _readable_worker("\\frac{1}{2}") is False


@pytest.mark.parametrize("answer, readable", [
    ("\\frac{1}{2}", True),
    ("x+1", True),
    ("3:30 p.m.", False),   # math-verify keeps it only as a raw string
    ("\\frac{", False),
    ("", False),
])
def test_readable_means_math_verify_reads_it_as_mathematics(answer, readable):
    assert _readable_worker(answer) is readable


def test_readable_many_needs_every_accepted_answer_readable_and_takes_numbers_as_read():
    pool = VerifyPool(workers=1)
    try:
        got = pool.readable_many(["\\frac{1}{2}",
                                  "50\\%",                 # math-verify reads no mathematics, but it is a number
                                  ("2", "3:30 p.m."),      # one unreadable accepted answer spoils the set
                                  "3:30 p.m.",
                                  ("x+1", "7"),
                                  "\\frac{"])
    finally:
        pool.close()
    assert got == [True, True, False, False, True, False]


def test_the_worker_answers_each_request_in_order_until_the_pipe_closes(monkeypatch):
    parent, child = mp.Pipe()
    requests = [(math.factorial, (5,)), (math.sqrt, (-1.0,)), (divmod, (7, 2))]
    for request in requests:
        parent.send(request)
    # half-close: the worker reads the requests already sent, then sees the end of the pipe, while its
    # replies still reach us
    end = socket.fromfd(parent.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
    end.shutdown(socket.SHUT_WR)
    end.close()
    # the worker changes process-wide state (its own, in a real worker): keep this process's
    monkeypatch.setattr(sys, "path", list(sys.path))
    before_path = list(sys.path)
    sigint = signal.getsignal(signal.SIGINT)
    disabled = logging.root.manager.disable
    try:
        with warnings.catch_warnings():
            _serve(child, ("/opt/verifier-lib",))
            assert warnings.filters[0][0] == "ignore"
        # Ctrl-C is left to the parent, math-verify's own logging is silenced, the worker's paths go first
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert logging.root.manager.disable == logging.CRITICAL
        assert sys.path == ["/opt/verifier-lib"] + before_path
    finally:
        signal.signal(signal.SIGINT, sigint)
        logging.disable(disabled)
    child.close()
    replies = []
    while True:
        try:
            replies.append(parent.recv())
        except EOFError:
            break
    # a request that raises (the square root of -1) is a wrong answer, not a dead worker
    assert replies == ["ready", 120, False, (3, 1)]
