"""From the bus to the agencies: the dispatcher, the adapter host, pacing and mailboxes."""
