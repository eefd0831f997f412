"""pandas peer.  usage: python3 pandas_w.py W1|W3|WINDOW|VALIDATE IN OUT"""
import sys

import pandas as pd

DISTRICTS = [
    "Dongcheng", "Xicheng", "Chaoyang", "Fengtai", "Shijingshan", "Haidian", "Mentougou",
    "Fangshan", "Tongzhou", "Shunyi", "Changping", "Daxing", "Huairou", "Pinggu", "Miyun",
    "Yanqing", "Binhai New Area", "Nankai", "Hexi", "Wuqing",
]
CROPS = ["wheat", "maize", "rice", "soybean", "potato"]


def w1(src, dst):
    df = pd.read_csv(src)
    kept = df.loc[df.output_t > 456.0].assign(yield_=lambda d: d.output_t / d.area_mu)
    table = kept.groupby(["district", "year"], sort=True).agg(
        n=("output_t", "count"),
        sum_output_t=("output_t", "sum"),
        mean_yield=("yield_", "mean"),
    )
    table.reset_index().to_csv(dst, index=False, float_format="%.17g")


def w3(src, dst):
    total = pd.read_csv(src, usecols=["output_t"]).output_t.sum()
    with open(dst, "w") as f:
        f.write("%.6f\n" % total)


def window(src, dst):
    df = pd.read_csv(src, usecols=["district", "year", "output_t"])
    df = df.sort_values(["district", "year", "output_t"], kind="stable")
    g = df.groupby("district", sort=False).output_t
    prev, cum = g.shift(), g.cumsum()
    with open(dst, "w") as f:
        f.write("%d %.6f %.6f\n" % (prev.count(), prev.sum(), cum.sum()))


def validate(src, dst):
    # The same checks as jinpu's VALIDATE, one failing cell or row counted once per rule.
    df = pd.read_csv(src)
    bad = 0
    bad += int(df.output_t.isna().sum() + (df.output_t < 0).sum())
    bad += int((~df.district.isin(DISTRICTS)).sum())
    bad += int((~df.crop.isin(CROPS)).sum())
    bad += int(((df.year < 2015) | (df.year > 2024)).sum())
    bad += int(((df.firms < 1) | (df.firms > 200)).sum())
    bad += int((df.area_mu < 2).sum())
    bad += int((df.note.fillna("").str.len() > 40).sum())
    bad += int((~(df.output_t <= df.area_mu)).sum())
    bad += int((~(df.revenue_cny >= 0)).sum())
    with open(dst, "w") as f:
        f.write("%d\n" % bad)


if __name__ == "__main__":
    work, src, dst = sys.argv[1:4]
    {"W1": w1, "W3": w3, "WINDOW": window, "VALIDATE": validate}[work](src, dst)
