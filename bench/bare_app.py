"""The baselines for bench.api, served by waitress with the same settings as
best_app: a bare Flask app with one trivial JSON route, and a bare WSGI
callable (what waitress itself costs)."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify({"ok": True})


def wsgi(environ, start_response):
    body = b'{"ok": true}\n'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
