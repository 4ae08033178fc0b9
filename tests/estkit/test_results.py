import pandas as pd
import pytest

from estkit import ResultsBase, SummaryParts, TestResult


class _Toy(ResultsBase):
    def __init__(self):
        self.table = pd.DataFrame({"coef": [1.0, -2.5]}, index=["a", "b"])
        self._freeze()

    def _summary_parts(self):
        return SummaryParts(
            title="Toy results",
            header=[("Units", 10), ("Kernel", "triangular"), ("Bandwidth", 0.25)],
            tables=[("Coefficients", self.table)],
            notes=["A note."],
        )


def test_summary_text_html_latex():
    r = _Toy()
    text = str(r)
    assert "Toy results" in text and "Coefficients" in text and "-2.5000" in text
    assert "[1] A note." in text
    assert "<table" in r._repr_html_()
    assert "tabular" in r.summary().as_latex()


def test_results_are_immutable():
    r = _Toy()
    with pytest.raises(AttributeError, match="immutable"):
        r.table = None


def test_test_result():
    t = TestResult("nullity", 1.0, 2.0, 0.4, 0.05, "tau = 0", (0.1, 0.9), "bootstrap")
    assert not t.reject
    s = t.to_series()
    assert s["pvalue"] == 0.4 and s.name == "nullity"
    assert "tau = 0" in str(t)
    with pytest.raises(AttributeError):
        t.pvalue = 0.0
