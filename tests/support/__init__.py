"""What the tests are built on (benchmarks may import it too): tiny real models (tiny_models), app.py as a real
server and concurrent callers (servers), evaluation datasets (eval_fixtures), generated documents (documents),
a newsroom-sized corpus (newsroom), `qa` without root's powers (unprivileged) and the end-of-run report (report).
"""
