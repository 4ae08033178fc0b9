"""Parity of estkit.density_test with rddensity 3.0 (Cattaneo, Jansson and Ma) and its API.

Reference numbers: rddensity 3.0 (PyPI, with lpdensity 3.0.0, numpy 2.4.6, scipy 1.17.1),
``rddensity(x, c=c, p=p, kernel=kernel, h=[] or [h], bino_flag=False)``, fields
``test['t_jk']``, ``test['p_jk']``, ``h``, ``hat`` and ``n['eff_left'/'eff_right']``, run on
the data sets of :func:`_data` (regenerate with ``benchmarks/rd_oracles.py`` in a separate
venv holding rddensity; the package never imports it).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import estkit
from benchmarks.rd_oracles import density_data
from estkit import DensityTestResults, EstimationError, EstkitWarning, density_test


def _data(k):
    """The data sets of benchmarks/rd_oracles.py (same seeds, same draws)."""
    return density_data(k)


# (data set, kernel, p, h (None: selected), T_jk, p_jk, (h_l, h_r), (f_l, f_r), (n_l, n_r))
RDDENSITY_3_0 = [
    (
        0,
        "triangular",
        1,
        None,
        0.12823319666093577,
        0.8979644297920584,
        (0.37583521203546494, 0.3011978429620596),
        (0.36513536603633495, 0.37972896866603756),
        (136, 123),
    ),
    (
        0,
        "triangular",
        2,
        None,
        -0.3781267981712995,
        0.7053364015943953,
        (1.0541046103491576, 0.7492714400527063),
        (0.417445978285119, 0.3740633247515304),
        (336, 272),
    ),
    (
        0,
        "triangular",
        2,
        0.5,
        0.4241416200659321,
        0.671462533830953,
        (0.5, 0.5),
        (0.2907144983794865, 0.35229973988089114),
        (171, 198),
    ),
    (
        0,
        "triangular",
        3,
        None,
        -0.0777989659318659,
        0.9379879690244126,
        (1.467200546096195, 1.3766065612581933),
        (0.42475764340833494, 0.4152725696329438),
        (415, 431),
    ),
    (
        0,
        "epanechnikov",
        1,
        None,
        0.17678334790025152,
        0.8596785694850888,
        (0.34100134102273205, 0.28865867488141583),
        (0.36080014196968835, 0.38168667991378935),
        (128, 117),
    ),
    (
        0,
        "epanechnikov",
        2,
        None,
        -0.551400698114782,
        0.5813590222355103,
        (0.9337909445306627, 0.7024235692427364),
        (0.43174715727169005, 0.3647683837228229),
        (311, 260),
    ),
    (
        0,
        "epanechnikov",
        3,
        None,
        -0.06659092835840247,
        0.9469073678375255,
        (1.4887340152463429, 1.286679120332138),
        (0.4222291828937781, 0.41383864676971754),
        (417, 412),
    ),
    (
        0,
        "uniform",
        1,
        None,
        0.5544684049096862,
        0.5792583227531076,
        (0.2544892470803901, 0.23168712912292833),
        (0.31400317512710374, 0.38576684037418313),
        (98, 92),
    ),
    (
        0,
        "uniform",
        2,
        None,
        -0.578180759150058,
        0.5631420876498645,
        (0.7142405974743903, 0.6844171070638614),
        (0.46251918894301214, 0.38926478773089235),
        (252, 254),
    ),
    (
        0,
        "uniform",
        3,
        None,
        0.3537652812096543,
        0.7235147946156091,
        (1.4251651062112525, 1.4355655403474905),
        (0.4177658870827668, 0.460714982447281),
        (411, 439),
    ),
    (
        1,
        "triangular",
        2,
        None,
        0.13920749703352694,
        0.8892861844132858,
        (0.3685627578428119, 0.2971405166569461),
        (0.3459958672702605, 0.3804418691739804),
        (103, 87),
    ),
    (
        1,
        "triangular",
        2,
        0.5,
        0.3715160361573367,
        0.7102532141405593,
        (0.5, 0.5),
        (0.3152491434994147, 0.38948841716046445),
        (150, 142),
    ),
    (
        2,
        "triangular",
        1,
        0.5,
        3.1629043610447005,
        0.0015620363855572972,
        (0.5, 0.5),
        (0.20421265091161445, 0.4959469415588771),
        (137, 248),
    ),
    (
        2,
        "triangular",
        2,
        None,
        2.095410293269128,
        0.03613453529518762,
        (0.541510100023045, 0.5053484964504714),
        (0.17626928481459642, 0.48899237149940905),
        (150, 250),
    ),
    (
        2,
        "triangular",
        2,
        0.5,
        1.9978916164187877,
        0.045728411747289366,
        (0.5, 0.5),
        (0.18708955581530518, 0.4904064356545632),
        (137, 248),
    ),
    (
        2,
        "epanechnikov",
        1,
        0.5,
        3.1326375505067956,
        0.0017324323068557135,
        (0.5, 0.5),
        (0.20552906366005175, 0.4963688890696929),
        (137, 248),
    ),
    (
        2,
        "uniform",
        1,
        0.5,
        3.126964006967179,
        0.0017662154904289906,
        (0.5, 0.5),
        (0.2215644730640065, 0.5071193500951381),
        (137, 248),
    ),
    (
        3,
        "triangular",
        2,
        None,
        -0.7171803308584216,
        0.4732628341053833,
        (0.7449112725343585, 0.791879286301662),
        (0.48252398710236616, 0.3887470328002042),
        (321, 141),
    ),
    (
        3,
        "triangular",
        2,
        0.5,
        -0.14174474005568036,
        0.887281634242918,
        (0.5, 0.5),
        (0.3970491959342439, 0.37421188778438363),
        (192, 101),
    ),
    (
        4,
        "triangular",
        1,
        None,
        1.0757224351646193,
        0.2820514106225369,
        (0.31240822960285314, 0.24760804145628085),
        (0.3106707553419636, 0.423527983953945),
        (178, 151),
    ),
    (
        4,
        "triangular",
        2,
        None,
        0.3039335818841565,
        0.7611784926249512,
        (0.6236620298436655, 0.6594821763331432),
        (0.35755241349390515, 0.3899225690820026),
        (330, 357),
    ),
    (
        4,
        "triangular",
        2,
        0.5,
        1.1883784670479924,
        0.23468433599418548,
        (0.5, 0.5),
        (0.28877745868797433, 0.4364275151867787),
        (270, 295),
    ),
    (
        4,
        "triangular",
        3,
        None,
        0.6127607582897113,
        0.5400345415870991,
        (1.2241889138906916, 1.1978892360579676),
        (0.4018276140055124, 0.46753463886842633),
        (564, 573),
    ),
    (
        4,
        "epanechnikov",
        1,
        None,
        1.062594075475423,
        0.2879660749092141,
        (0.2800331280298513, 0.22801449014659325),
        (0.3088599913980906, 0.4261733089444381),
        (162, 139),
    ),
    (
        4,
        "epanechnikov",
        2,
        None,
        0.29992603173892785,
        0.7642335774350619,
        (0.5970019958660712, 0.6236842186652808),
        (0.3564218095014616, 0.38955016367253015),
        (319, 346),
    ),
    (
        4,
        "epanechnikov",
        3,
        None,
        0.6012420354091682,
        0.5476787905540053,
        (1.1870933839415678, 1.1620762088991907),
        (0.4094900956783455, 0.4760214992173131),
        (556, 568),
    ),
    (
        4,
        "uniform",
        1,
        None,
        0.9697954376033696,
        0.33214846745506454,
        (0.22, 0.22),
        (0.31634580132026846, 0.42868623852996285),
        (126, 139),
    ),
    (
        4,
        "uniform",
        2,
        None,
        -0.044566435394286855,
        0.9644528967397443,
        (0.5598151172337545, 0.6087081167998483),
        (0.3738915947803627, 0.3688733812639168),
        (289, 333),
    ),
    (
        4,
        "uniform",
        3,
        None,
        0.7354916567504393,
        0.46204011933933575,
        (1.1165001156920045, 1.0968630633546153),
        (0.41499582429055676, 0.4984878722116167),
        (529, 547),
    ),
    (
        5,
        "triangular",
        2,
        None,
        0.8940997849755803,
        0.37126850434996106,
        (0.12060280732693912, 0.12859579284279168),
        (1.3008650289473231, 2.23590005331776),
        (88, 82),
    ),
    (
        5,
        "triangular",
        2,
        0.5,
        0.14383909168978112,
        0.8856275331323902,
        (0.5, 0.5),
        (1.66965290473982, 1.7492586010361038),
        (179, 219),
    ),
]


@pytest.mark.parametrize(
    ("k", "kernel", "p", "h", "stat", "pval", "bw", "dens", "neff"), RDDENSITY_3_0
)
def test_matches_rddensity(k, kernel, p, h, stat, pval, bw, dens, neff):
    x, c = _data(k)
    if k == 4:
        with pytest.warns(EstkitWarning, match="mass points"):
            res = density_test(x, c, p=p, kernel=kernel, bandwidth=h)
    else:
        res = density_test(x, c, p=p, kernel=kernel, bandwidth=h)
    rel = 1e-6
    assert res.statistic == pytest.approx(stat, rel=rel)
    assert res.pvalue == pytest.approx(pval, rel=rel)
    assert res.bandwidth == pytest.approx(bw, rel=rel)
    assert res.density == pytest.approx(dens, rel=rel)
    assert res.n_eff == neff


def test_results_object_and_summary():
    x, c = _data(2)
    res = density_test(pd.Series(x), c)
    assert isinstance(res, DensityTestResults) and isinstance(res, estkit.ResultsBase)
    assert res.reject and res.difference == pytest.approx(res.density[1] - res.density[0])
    text = str(res.summary())
    for frag in ("Manipulation test", "Robust", "Eff. number of obs", "jackknife"):
        assert frag in text
    frame = res.to_frame()
    assert list(frame.index) == ["left", "right"]
    assert frame.loc["left", "n_eff"] == res.n_eff[0]
    with pytest.raises(AttributeError, match="cannot assign"):
        res.statistic = 0.0


def test_fixed_bandwidth_pair_and_cutoff_shift():
    x, _ = _data(0)
    a = density_test(x, 0.0, bandwidth=(0.4, 0.6))
    assert a.bandwidth == (0.4, 0.6)
    b = density_test(x + 10.0, 10.0, bandwidth=(0.4, 0.6))
    assert b.statistic == pytest.approx(a.statistic, rel=1e-8)
    assert b.density == pytest.approx(a.density, rel=1e-8)


def test_density_curve_and_plot():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, c = _data(0)
    res = density_test(x, c)
    cur = res.density_curve("right", n_points=10)
    assert list(cur.columns) == ["x", "density", "lower", "upper"]
    assert cur["x"].iloc[0] == pytest.approx(c)
    # at the cutoff the curve is the test's own estimate
    assert cur["density"].iloc[0] == pytest.approx(res.density[1], rel=1e-10)
    assert np.all(cur["lower"] <= cur["density"]) and np.all(cur["density"] <= cur["upper"])
    # N(0, 1) density inside the band away from the tails
    ax = res.plot()
    assert ax.get_ylabel() == "density"
    assert len(ax.patches) > 0  # histogram
    plt.close("all")


def test_bad_inputs():
    x, _ = _data(0)
    with pytest.raises(ValueError, match="`p` must be between 1 and 7"):
        density_test(x, p=8)
    with pytest.raises(ValueError, match="`kernel` must be one of"):
        density_test(x, kernel="gaussian")
    with pytest.raises(ValueError, match="no units at or above the cutoff"):
        density_test(x, cutoff=100.0)
    with pytest.raises(ValueError, match="`bandwidth` must be a finite positive"):
        density_test(x, bandwidth=-1.0)
    with pytest.raises(ValueError, match="`bandwidth` must be a finite positive"):
        density_test(x, bandwidth=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="`x` contains 1 non-finite"):
        density_test(np.r_[x, np.nan])
    with pytest.raises(EstimationError, match="at least 4 units"):
        density_test(x, bandwidth=0.001)


def test_size_under_no_manipulation():
    # continuous density: the jackknife test rejects near its nominal rate
    rej = []
    for seed in range(40):
        x = np.random.default_rng(seed).normal(size=500)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rej.append(density_test(x).pvalue < 0.05)
    assert np.mean(rej) <= 0.15


_FULL = json.loads((Path(__file__).parent / "reference" / "rddensity_3.0.json").read_text())


@pytest.mark.parametrize(
    "rec", _FULL, ids=[f"k{r['k']}-{r['kernel']}-p{r['p']}-h{r['h']}" for r in _FULL]
)
def test_matches_rddensity_full_grid(rec):
    # every data set x kernel x p in {1, 2, 3} x (selected, h = 0.5): reference/README.md
    x, c = _data(rec["k"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstkitWarning)  # mass points (data set 4)
        res = density_test(x, c, p=rec["p"], kernel=rec["kernel"], bandwidth=rec["h"])
    rel = 1e-6
    assert res.statistic == pytest.approx(rec["T"], rel=rel)
    assert res.pvalue == pytest.approx(rec["pv"], rel=rel)
    assert res.bandwidth == pytest.approx((rec["hl"], rec["hr"]), rel=rel)
    assert res.density == pytest.approx((rec["fl"], rec["fr"]), rel=rel)
    assert res.n_eff == (rec["nl"], rec["nr"])
