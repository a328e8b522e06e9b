"""Signatures and trust (DESIGN §5; docs/trust.md): who signed a message, and whether to believe it.

`policy` holds what a signature must be; `store` the trust material built once from the
configuration (anchors, intermediates, CRLs, pins) and `material` reloads it; `xmldsig` verifies
a message's XML-DSig and `check` is the intake step (and `edocgw verify`); `pdf` reads the
signatures of PDF attachments; `tls` is mutual TLS; `certs` reads and names certificates;
`sign`, `pki` and `signers` make signed messages and a development PKI; `commands` the CLI.
"""
