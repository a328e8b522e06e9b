"""Every message into the gateway: the intake pipeline, its steps, recording and publishing."""
