"""`python -m formcheck.bench ...`, the documented name of the benchmarks and the accuracy
harness, which live outside the runtime package in formcheck_bench/bench.py."""
if __name__ == "__main__":
    from formcheck_bench.bench import main
    main()
