#!/usr/bin/env python3
"""Reads a --metrics-file with prometheus_client's text-format parser, for the metrics tests.

    promparse.py FILE

Prints one line per sample, `name{label="value",...} value`, labels sorted by name, values
as Python writes floats. Exits 1, saying why, when the parser refuses the file or when it
breaks a rule of the textfile collector's format that the parser lets through: a sample
without a TYPE, a timestamp, a counter not named `_total`, a series twice.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main(path):
    with open(path, encoding="utf-8") as file:
        text = file.read()
    typed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    seen = set()
    out = []
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser raises ValueError and others
        sys.exit(f"{path}: not the text format: {error}")
    for family in families:
        if family.type not in ("counter", "gauge"):
            sys.exit(f"{path}: {family.name} has type {family.type}")
        for sample in family.samples:
            if sample.timestamp is not None:
                sys.exit(f"{path}: {sample.name} has a timestamp")
            declared = sample.name if family.type == "gauge" else family.name + "_total"
            if family.type == "counter" and sample.name != declared:
                sys.exit(f"{path}: counter sample {sample.name} is not {declared}")
            if declared not in typed:
                sys.exit(f"{path}: {sample.name} has no TYPE line")
            labels = ",".join(f'{name}="{value}"' for name, value in sorted(sample.labels.items()))
            series = f"{sample.name}{{{labels}}}"
            if series in seen:
                sys.exit(f"{path}: {series} twice")
            seen.add(series)
            out.append(f"{series} {sample.value!r}")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
