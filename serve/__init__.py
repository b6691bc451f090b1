"""Running the dashboard: one server or several replicas behind nginx, HTTPS certificates, and the fake
camera and browser driver of the load test. Scripts, ``make`` targets and the tests import it.

    python -m serve.replicas --replicas 2 --port 8500   # = make replicas
    python -m serve.certs --out .certs                   # the certificate of make run-https
"""
