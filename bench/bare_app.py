"""The baseline for bench.api: a bare Flask app with one trivial JSON route,
served by waitress with the same settings as best_app."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify({"ok": True})
