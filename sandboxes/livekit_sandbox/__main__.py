"""`python -m sandboxes.livekit_sandbox`: run the sandbox (`--help` for its options)."""

from sandboxes.livekit_sandbox.server import main

if __name__ == "__main__":
    main()
