"""Personal data in the training service's datasets: PII found at upload (`scanning`), a person's rows found
and erased by the keyed hashes of their identifiers (`subjects`, `erasure`), old dataset versions deleted
(`retention`), and the totals (`status`)."""
