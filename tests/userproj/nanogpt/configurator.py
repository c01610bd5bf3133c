# Read by train.py with exec(): each argument is either a config file (Python assignments) or --key=value.
import sys
from ast import literal_eval

for arg in sys.argv[1:]:
    if not arg.startswith("--"):
        print(f"Overriding config with {arg}:")
        exec(open(arg).read())
        continue
    key, val = arg[2:].split("=", 1)
    assert key in globals(), f"unknown config key {key}"
    try:
        val = literal_eval(val)
    except (SyntaxError, ValueError):
        pass
    globals()[key] = val
