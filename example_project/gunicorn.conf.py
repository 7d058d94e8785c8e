"""gunicorn settings of the example project (read from the current directory).

    gunicorn example.wsgi                        # http://127.0.0.1:8000/api/
    gunicorn -b 127.0.0.1:8001 example.wsgi      # another port

Loopback only. Sync workers, two of them: the machine this was measured on
has two cores, and a blue-green deploy runs two releases side by side.
"""

bind = "127.0.0.1:8000"
workers = 2
worker_class = "sync"
timeout = 30
# SIGTERM: stop accepting, finish the requests in flight, then exit.
graceful_timeout = 15
accesslog = None
