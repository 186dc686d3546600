class EchoService:
    def __init__(self, settings) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings

    async def close(self) -> None:
        pass
