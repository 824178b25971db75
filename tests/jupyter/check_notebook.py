"""Checks the outputs `jupyter execute` wrote into tests/jupyter/smoke.ipynb's copy."""

import sys

import nbformat

nb = nbformat.read(sys.argv[1], as_version=4)
code = [c for c in nb.cells if c.cell_type == "code"]
outs = [[o for o in c.outputs] for c in code]
assert any(o.get("name") == "stdout" and "allocated" in o["text"] for o in outs[0]), outs[0]
maps = [o for o in outs[1] if o.output_type == "display_data"]
assert maps and {"text/plain", "text/html"} <= set(maps[0].data), maps
assert "[heap]" in maps[0].data["text/plain"]
result = [o for o in outs[2] if o.output_type == "execute_result"]
assert result and result[0].data["text/plain"] == "1029", outs[2]
assert [c.execution_count for c in code] == [1, 2, 3], [c.execution_count for c in code]
print("notebook: outputs as expected")
