"""Side-by-side performance measurements of mlsec against what a user would otherwise pick.

Every figure is taken in the same run, on the same machine, as its baseline, and reported as a
ratio: absolute numbers depend on the machine, ratios from one run do not (much). Run with
`make bench` (or `python -m benchmarks`); results land in `benchmarks/results/`. Timings are never
asserted in tests: they would fail on slow CI machines without saying anything about the code.
"""
