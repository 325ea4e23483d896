"""`python -m sandboxes.fcm_sandbox`: run the sandbox (`--help` for its options)."""

from sandboxes.fcm_sandbox.server import main

if __name__ == "__main__":
    main()
