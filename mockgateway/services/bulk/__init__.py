"""The two-step bulk interfaces (oqs-interface.md §2, docs/bulk.md): upload, then poll for the result.

Registers OQSmuquc01 / OQSmuquc02 (資格確認一括照会) and OQSmuimm01 / OQSmuimm02 (照会番号一括登録) in
`service`. Jobs are durable (`jobs`), records are judged by `confirm` (or the 照会番号 registry),
results are rendered as stored XML fragments (`render`); `layout` holds the request and result
layouts, `settings` the pace and limits, `polling` how a client polled.
"""
