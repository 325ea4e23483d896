"""Local, stateful fakes of outside providers, used by the tests and the offline demo."""
