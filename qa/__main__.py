from qa.serve.cli import run

run()
