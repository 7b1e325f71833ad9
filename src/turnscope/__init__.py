"""turnscope: complete observability for LiveKit voice agents."""
