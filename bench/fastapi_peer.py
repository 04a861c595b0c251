"""A peer for bench.api: FastAPI on uvicorn (one worker), where a read is one
Redis GET of a ready JSON body and nothing else (no token check, no
freshness check). best_app's cached reads are measured against it."""
import os

import redis.asyncio as redis
from fastapi import FastAPI, Response

KEY = os.environ["PEER_KEY"]  # set by bench.api, with the body of GET /api/v1/users/1

app = FastAPI()
client = redis.Redis.from_url(os.environ["REDIS_URL"])


@app.get("/users/{id}")
async def read(id: int) -> Response:
    return Response(await client.get(KEY), media_type="application/json")
