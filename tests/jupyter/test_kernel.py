"""The official Jupyter kernel conformance suite (jupyter_kernel_test) against memsim's kernel.

Run by scripts/jupyter-tests.sh, which installs the kernelspec into a virtualenv first.
"""

import os
import unittest

import jupyter_kernel_test


class MemKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = os.environ.get("MEMSIM_KERNEL_NAME", "mem")
    language_name = "mem"
    file_extension = ".mem"

    code_hello_world = 'print "hello, world"'
    # Reading bytes malloc never cleared is a warning: the cell succeeds, stderr explains.
    code_stderr = "let w: *u8 = malloc(8)\nprint w[0]"

    completion_samples = [
        {"text": "mallo", "matches": {"malloc"}},
        {"text": "show fr", "matches": {"frames"}},
        {"text": "machine { replace cl", "matches": {"clock"}},
    ]

    complete_code_samples = [
        "let p = malloc(40)",
        "print 1 + 41",
        "repeat 3 {\n    print 1\n}",
        "# only a comment",
        "",
    ]
    incomplete_code_samples = [
        "repeat 3 {",
        "machine {\n    memory 4 pages",
        "let x = 1 + \\",
        "print (1 +",
    ]
    invalid_code_samples = ["let = 3", "print \"unterminated", "}", "let p = malloc(40) )"]

    code_inspect_sample = "malloc"

    code_generate_error = "print undefined_variable"

    code_execute_result = [
        {"code": "1 + 41", "result": "42"},
        {"code": "6 * 7", "result": "42"},
        {"code": "4 KiB + 4 KiB", "result": "8 KiB"},
        {"code": "getpagesize()", "result": "4096"},
    ]
    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")

    code_display_data = [
        {"code": "show maps", "mime": "text/plain"},
        {"code": "show maps", "mime": "text/html"},
        {"code": "show maps", "mime": "image/svg+xml"},
        {"code": "show walk 0x401000", "mime": "image/svg+xml"},
        {"code": "show frames", "mime": "image/svg+xml"},
        # An empty heap has nothing to draw: its table only (the suite looks at a cell's first
        # display, and a cell that allocates shows its trace first; the heap's picture is
        # tested by the Rust render tests).
        {"code": "show heap", "mime": "text/html"},
        {"code": "show tlb", "mime": "text/html"},
        {"code": "show stats", "mime": "text/html"},
    ]


if __name__ == "__main__":
    unittest.main()
