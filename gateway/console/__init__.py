"""The console: the operators' and auditors' pages, served by the ops listener at `/`
(DESIGN §4.6, docs/console.md). Server-rendered, no script; charts are SVG made here."""
