"""Checks executed lesson notebooks against the rules in notebooks/README.md: kernel `mem`,
every code cell run without an error, no cell output over MAX_LINES lines, solution cells
hidden. Usage: check-notebooks.py [--strip-timing] NOTEBOOK.ipynb [...]; exits 1 with the
reasons if one fails. --strip-timing first removes the run's timestamps that nbclient writes
into each cell's metadata, so that a notebook saved twice from the same run is the same file."""

import os
import sys

import nbformat

MAX_LINES = int(os.environ.get("MEMSIM_NOTEBOOK_MAX_LINES", "40"))


def output_lines(cell):
    """Lines the reader sees under a cell: streams, and each output's plain text."""
    n = 0
    for o in cell.outputs:
        if o.output_type == "stream":
            text = o.text
        elif o.output_type == "error":
            text = "\n".join(o.traceback)
        else:
            text = o.get("data", {}).get("text/plain", "")
        if isinstance(text, list):
            text = "".join(text)
        n += len(text.rstrip("\n").split("\n")) if text else 0
    return n


def problems(path):
    nb = nbformat.read(path, as_version=4)
    spec = nb.metadata.get("kernelspec", {})
    if spec.get("name") != "mem":
        yield f"kernelspec.name is {spec.get('name')!r}, not 'mem'"
    for i, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code":
            continue
        first = cell.source.splitlines()[0] if cell.source.strip() else "(empty)"
        where = f"cell {i} ({first!r})"
        if cell.source.strip() and cell.execution_count is None:
            yield f"{where} was not run"
        # A cell tagged `raises-exception` shows a failure on purpose (nbclient lets it fail).
        expected = "raises-exception" in cell.metadata.get("tags", [])
        if any(o.output_type == "error" for o in cell.outputs) != expected:
            yield f"{where} failed" if not expected else f"{where} should fail but did not"
        lines = output_lines(cell)
        if lines > MAX_LINES:
            yield f"{where} shows {lines} lines of output (at most {MAX_LINES})"
        if "solution" in cell.metadata.get("tags", []):
            if not cell.metadata.get("jupyter", {}).get("source_hidden"):
                yield f"{where} is a solution but its source is not hidden"


def strip_timing(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main():
    args = sys.argv[1:]
    strip = "--strip-timing" in args
    paths = [a for a in args if a != "--strip-timing"]
    bad = False
    for path in paths:
        if strip:
            strip_timing(path)
        for p in problems(path):
            print(f"{os.path.basename(path)}: {p}", file=sys.stderr)
            bad = True
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
