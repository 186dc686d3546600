from fastapi import FastAPI


def create_api() -> FastAPI:
    return FastAPI()
