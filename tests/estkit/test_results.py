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


def test_rd_interval_on_demand_equals_a_refit():
    import numpy as np

    from estkit import local_polynomial_rd

    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 400)
    y = x + 0.4 * (x >= 0) + rng.normal(0, 0.3, 400)
    fit95 = local_polynomial_rd(x, y, bandwidth=0.5)
    fit90 = local_polynomial_rd(x, y, bandwidth=0.5, alpha=0.10)
    assert fit95.interval() == fit95.conf_int
    assert fit95.interval(0.10) == fit90.conf_int
    assert fit95.interval(0.10, kind="robust") == fit90.conf_int_robust
    assert fit95.interval(kind="robust") == fit95.conf_int_robust
    with pytest.raises(ValueError, match="`kind`"):
        fit95.interval(kind="basic")
