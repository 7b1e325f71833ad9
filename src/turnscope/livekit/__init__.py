"""The LiveKit adapter: the only room of turnscope that imports ``livekit``."""
