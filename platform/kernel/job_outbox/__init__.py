"""The job outbox: a job a business operation queues is written in its transaction and sent
to the job queue once it commits, so Redis being down never loses it (nor makes the request
fail after its data was saved). See `kernel.job_outbox.services`."""
