"""The edges people use: the ``qa`` command line, text rendering, the web page's service and HTML, and the
web server's guards. The only layer that words errors in terms of flags and buttons.
"""
