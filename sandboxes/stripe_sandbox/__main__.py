"""`python -m sandboxes.stripe_sandbox`: run the sandbox (`--help` for its options)."""

from sandboxes.stripe_sandbox.server import main

if __name__ == "__main__":
    main()
