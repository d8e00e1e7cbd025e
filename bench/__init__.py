"""seedbot benchmarks (`make bench`, i.e. `python -m bench`): the real Slack adapter and engine,
run as `python -m bot run --slack` in a subprocess, driven through the loopback emulators in
tests/emulators/, each figure measured side by side with its reference in the same run.

Not part of the test suite; results go to bench/results.json and bench/results.png.
"""
