"""Benchmarks and the accuracy harness: tooling that prints figures, kept outside the runtime
package. Run as `python -m formcheck.bench ...` (the documented name) or `python -m formcheck_bench ...`."""
