class OutboxWorker:
    def __init__(self, ctx, transport) -> None:  # type: ignore[no-untyped-def]
        pass

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
