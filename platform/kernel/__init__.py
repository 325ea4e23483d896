"""What every app of Callrix may use: domain errors, money, secrets, throttles, the
generational cache, log formatting and security headers. It imports no app of ours."""
